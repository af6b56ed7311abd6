package tailor_test

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/build/replay/tailor"
	"github.com/tailorhq/tailor/sdk/model"
)

// TestRankingDefaultIsGuest replays one split with the shipped mode, the
// Go device at the default weights and the Go device at other weights:
// the Go device at the defaults must give the guest's figures exactly
// (same deltas, same model, same shards fetched, the guest's ranking
// code), and other weights other figures, so that a sweep of
// -ranking variants measures what the rebuilt guest would.
func TestRankingDefaultIsGuest(t *testing.T) {
	useWasm(t)
	split, cats := smallSplit(600, 100, 5)
	var methods []string
	for _, spec := range []string{"", "repeat=0,decay=0.5"} {
		name, err := tailor.RegisterRanking(spec)
		if err != nil {
			t.Fatal(err)
		}
		methods = append(methods, name)
	}
	methods = slices.Insert(methods, 0, tailor.NameFederated)
	rs := replaySplit(t, split, cats, 3, 2, methods...)
	guest, def, other := rs[0], rs[1], rs[2]
	for _, r := range rs {
		t.Logf("%s: HR %v MRR %v coverage %v model %v", r.Method, r.HR, r.MRR, r.Coverage, deref(r.ModelBytes))
	}
	if !slices.Equal(guest.HR, def.HR) || !slices.Equal(guest.MRR, def.MRR) || guest.Coverage != def.Coverage || guest.Diversity != def.Diversity {
		t.Errorf("Go device at the defaults: HR %v MRR %v coverage %v diversity %v; guest %v %v %v %v",
			def.HR, def.MRR, def.Coverage, def.Diversity, guest.HR, guest.MRR, guest.Coverage, guest.Diversity)
	}
	if deref(guest.ModelLaterPage) != deref(def.ModelLaterPage) {
		t.Errorf("Go device fetched %v B a later page, the guest %v", deref(def.ModelLaterPage), deref(guest.ModelLaterPage))
	}
	if def.Default || other.Default {
		t.Error("a ranking variant is marked the shipped default")
	}
	if slices.Equal(guest.MRR, other.MRR) {
		t.Errorf("Go device at other weights: MRR %v, the same as the guest's", other.MRR)
	}
}

// TestParseRanking checks that a ranking variant sets the fields it
// names, in any case, and refuses unknown fields and values.
func TestParseRanking(t *testing.T) {
	p, err := tailor.ParseRanking("Decay=4, hop=0.1,window=10")
	if err != nil {
		t.Fatal(err)
	}
	want := model.DefaultParams
	want.Decay, want.Hop, want.Window = 4, 0.1, 10
	if p != want {
		t.Errorf("ParseRanking = %+v, want %+v", p, want)
	}
	if p, err := tailor.ParseRanking(""); err != nil || p != model.DefaultParams {
		t.Errorf(`ParseRanking("") = %+v, %v; want the defaults`, p, err)
	}
	for _, spec := range []string{"decay", "nope=1", "decay=x", "decay=1,"} {
		if _, err := tailor.ParseRanking(spec); !errors.Is(err, tailor.ErrRanking) {
			t.Errorf("ParseRanking(%q) = %v, want ErrRanking", spec, err)
		}
	}
}

// TestRankingFieldsAreParams checks that a ranking variant can set every
// field of model.Params, each by its own name: a field added to the
// params is one a sweep can tune.
func TestRankingFieldsAreParams(t *testing.T) {
	params := reflect.TypeFor[model.Params]()
	var want []string
	for i := range params.NumField() {
		name := strings.ToLower(params.Field(i).Name)
		want = append(want, name)
		p, err := tailor.ParseRanking(name + "=" + strconv.Itoa(100+i))
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.ValueOf(p).Field(i)
		if (got.CanFloat() && got.Float() != float64(100+i)) || (got.CanInt() && got.Int() != int64(100+i)) {
			t.Errorf("ParseRanking(%s=%d) set %s to %v", name, 100+i, name, got)
		}
	}
	slices.Sort(want)
	if got := tailor.RankingFields(); !slices.Equal(got, want) {
		t.Errorf("RankingFields = %v, want model.Params' fields %v", got, want)
	}
}
