package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
)

// testSettings: none until written; a put needs the rev it read and bumps
// it; a stale rev fails with ErrSettingsMoved and changes nothing; sites
// are apart; the settings and their audit log survive a reopen.
func testSettings(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	got, err := s.Settings(ctx, "a")
	if err != nil || got.Rev != 0 || got.Pinned || got.Paused || len(got.Audit) != 0 {
		t.Fatalf("Settings before any put = %+v, %v; want the zero Settings", got, err)
	}
	at := time.Unix(1_800_000_000, 0).UTC()
	first := store.Settings{Pinned: true, Pin: 3}
	first.Log(store.AuditEntry{At: at, Who: "owner", Action: "pin", Detail: "v3"})
	if err := s.PutSettings(ctx, "a", first); err != nil {
		t.Fatalf("first PutSettings: %v", err)
	}
	if err := s.PutSettings(ctx, "a", store.Settings{Paused: true}); !errors.Is(err, store.ErrSettingsMoved) {
		t.Fatalf("PutSettings at rev 0 over rev 1: %v, want ErrSettingsMoved", err)
	}
	got, err = s.Settings(ctx, "a")
	if err != nil || got.Rev != 1 || !got.Pinned || got.Pin != 3 || got.Paused || len(got.Audit) != 1 ||
		got.Audit[0].Action != "pin" || !got.Audit[0].At.Equal(at) {
		t.Fatalf("Settings = %+v, %v; want rev 1, pinned at 3, one audit entry", got, err)
	}
	got.Paused = true
	got.Log(store.AuditEntry{At: at.Add(time.Minute), Who: "admin", Action: "pause"})
	if err := s.PutSettings(ctx, "a", got); err != nil {
		t.Fatalf("second PutSettings: %v", err)
	}
	if err := s.PutSettings(ctx, "a", got); !errors.Is(err, store.ErrSettingsMoved) {
		t.Fatalf("PutSettings of the same rev twice: %v, want ErrSettingsMoved", err)
	}
	if other, err := s.Settings(ctx, "b"); err != nil || other.Rev != 0 {
		t.Fatalf("another site's Settings = %+v, %v; want none", other, err)
	}
	if err := s.PutSettings(ctx, "", got); !errors.Is(err, store.ErrInvalidRequest) {
		t.Fatalf("PutSettings without site: %v, want ErrInvalidRequest", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, open)
	got, err = s.Settings(ctx, "a")
	if err != nil || got.Rev != 2 || !got.Paused || !got.Pinned || len(got.Audit) != 2 || got.Audit[1].Who != "admin" {
		t.Fatalf("Settings after reopen = %+v, %v; want rev 2, paused and pinned, two audit entries", got, err)
	}
}
