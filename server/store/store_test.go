package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

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

func TestBlobs(t *testing.T) {
	v := store.Version{Config: "c", Shards: []store.Shard{{Index: 0, Hash: "s0"}, {Index: 1, Hash: "s1", Version: 1}}}
	if got := v.Blobs(); !slices.Equal(got, []string{"c", "s0", "s1"}) {
		t.Errorf("Blobs() = %q", got)
	}
	if got := (&store.Version{Config: "c"}).Blobs(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("a version without shards: Blobs() = %q", got)
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
