package store_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
)

func TestFollows(t *testing.T) {
	for _, tc := range []struct {
		name    string
		number  uint32
		latest  uint32
		has     bool
		wantErr error
	}{
		{"first is 0", 0, 0, false, nil},
		{"first is not 1", 1, 0, false, store.ErrVersionGap},
		{"next", 4, 3, true, nil},
		{"same again", 3, 3, true, store.ErrVersionExists},
		{"older", 2, 3, true, store.ErrVersionExists},
		{"0 again", 0, 0, true, store.ErrVersionExists},
		{"gap", 5, 3, true, store.ErrVersionGap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := store.Version{Site: "a", Number: tc.number}
			if err := v.Follows(tc.latest, tc.has); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("v%d after v%d (has %v): %v, want %v", tc.number, tc.latest, tc.has, err, tc.wantErr)
			}
		})
	}
}

func TestAgain(t *testing.T) {
	body := []byte("body")
	r := store.Recorded{Sum: sha256.Sum256(body), Seq: 7, Site: "a"}
	for _, tc := range []struct {
		name    string
		site    string
		body    string
		want    store.Appended
		wantErr error
	}{
		{"same site and body", "a", "body", store.Appended{Seq: 7, Duplicate: true}, nil},
		{"another body", "a", "other", store.Appended{}, store.ErrConflict},
		{"another site", "b", "body", store.Appended{}, store.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := store.Delta{Site: tc.site, Body: []byte(tc.body)}
			a, err := r.Again(&d, sha256.Sum256(d.Body))
			if a != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("Again = %+v, %v; want %+v, %v", a, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestBlobs(t *testing.T) {
	v := store.Version{Config: "c", Shards: []store.Shard{{Index: 0, Hash: "s0"}, {Index: 1, Hash: "s1", Version: 1}}}
	if got := v.Blobs(); !slices.Equal(got, []string{"c", "s0", "s1"}) {
		t.Errorf("Blobs() = %q", got)
	}
	if got := (&store.Version{Config: "c"}).Blobs(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("a version without shards: Blobs() = %q", got)
	}
}

// TestNewBlobs: Publish's blob rule, as every store applies it.
func TestNewBlobs(t *testing.T) {
	v := store.Version{Site: "a", Config: "c", Shards: []store.Shard{{Index: 0, Hash: "s0"}, {Index: 1, Hash: "s0"}, {Index: 2, Hash: "s2"}}}
	for _, tc := range []struct {
		name    string
		stored  []string
		given   []string
		want    []string
		wantErr error
	}{
		{"all given, once each", nil, []string{"c", "s0", "s2"}, []string{"c", "s0", "s2"}, nil},
		{"all stored", []string{"c", "s0", "s2"}, nil, nil, nil},
		{"given and stored: not written again", []string{"c", "s0"}, []string{"c", "s2"}, []string{"s2"}, nil},
		{"more given than referred to", []string{"c", "s0", "s2"}, []string{"x"}, nil, nil},
		{"neither given nor stored", []string{"c"}, []string{"s0"}, nil, store.ErrMissingBlob},
		{"nothing", nil, nil, nil, store.ErrMissingBlob},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := store.Publication{Version: v, Blobs: map[string][]byte{}}
			for _, h := range tc.given {
				p.Blobs[h] = []byte(h)
			}
			got, err := p.NewBlobs(func(h string) bool { return slices.Contains(tc.stored, h) })
			if !errors.Is(err, tc.wantErr) || !slices.Equal(got, tc.want) {
				t.Errorf("NewBlobs = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestSettingsLog(t *testing.T) {
	var s store.Settings
	for i := range store.MaxAudit + 5 {
		s.Log(store.AuditEntry{Detail: fmt.Sprint(i)})
	}
	if len(s.Audit) != store.MaxAudit || s.Audit[0].Detail != "5" || s.Audit[store.MaxAudit-1].Detail != fmt.Sprint(store.MaxAudit+4) {
		t.Fatalf("audit log of %d entries from %q to %q; want the newest %d", len(s.Audit), s.Audit[0].Detail, s.Audit[len(s.Audit)-1].Detail, store.MaxAudit)
	}
}

func TestRules(t *testing.T) {
	until := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	base := store.Base{Through: 10, Until: until}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"delta", (&store.Delta{Site: "a", Body: []byte{0x80}}).Check(), nil},
		{"delta without site", (&store.Delta{Body: []byte{0x80}}).Check(), store.ErrInvalidRequest},
		{"delta without body", (&store.Delta{Site: "a"}).Check(), store.ErrInvalidRequest},
		{"limit", store.CheckLimit(1), nil},
		{"limit 0", store.CheckLimit(0), store.ErrInvalidRequest},
		{"retire", store.CheckRetire("a", 10, store.Base{Through: 12}), nil},
		{"retire nothing new", store.CheckRetire("a", 10, store.Base{Through: 10}), nil},
		{"retire back", store.CheckRetire("a", 10, store.Base{Through: 9}), store.ErrInvalidRequest},
		{"retire without site", store.CheckRetire("", 0, store.Base{Through: 1}), store.ErrInvalidRequest},
		{"base still", base.Still(10), nil},
		{"base moved", base.Still(8), store.ErrBaseMoved},
		{"window after the base", base.Reaches(until.Add(time.Hour)), nil},
		{"window at the base's last hour", base.Reaches(until), store.ErrRetired},
		{"window before", base.Reaches(until.Add(-time.Hour)), store.ErrRetired},
		{"no base", store.Base{}.Reaches(time.Time{}), nil},
	} {
		if !errors.Is(tc.err, tc.want) || (tc.err == nil) != (tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

// TestNextSettings: PutSettings stores the settings one revision on, as
// JSON, and refuses a site-less request before writing anything.
func TestNextSettings(t *testing.T) {
	body, prev, err := store.NextSettings("a", store.Settings{Rev: 3, Paused: true})
	var got store.Settings
	if err != nil || json.Unmarshal(body, &got) != nil || prev != 3 || got.Rev != 4 || !got.Paused {
		t.Errorf("NextSettings at rev 3 = %s, prev %d, %v; want rev 4, paused, prev 3", body, prev, err)
	}
	if _, _, err := store.NextSettings("", store.Settings{}); !errors.Is(err, store.ErrInvalidRequest) {
		t.Errorf("NextSettings without a site: %v, want ErrInvalidRequest", err)
	}
}
