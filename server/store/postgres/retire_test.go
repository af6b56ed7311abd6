package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
)

// TestRetireLeavesNoRow: after Retire, no row of the deleted deltas is
// left, by id or body. It also measures where their bytes still are
// (logged): in the table's file until VACUUM FULL rewrites it, and in
// the write-ahead log until its segments are recycled. That is why the
// README asks for encrypted disks and backups kept no longer than the
// retention window: SQL-level deletion is what the store can promise.
func TestRetireLeavesNoRow(t *testing.T) {
	pg := pgtest.Start(t)
	db := open(t, pg.NewDatabase(t))
	ctx := context.Background()
	mark := func(i int) []byte { return fmt.Appendf(nil, "secret-body-%04d", i) }
	var ids, bodies [][]byte
	for i := range 100 {
		d := store.Delta{Site: "a", Received: time.Now(), Body: mark(i)}
		copy(d.ID[:], fmt.Sprintf("id-%013d", i))
		if _, err := db.Append(ctx, d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, bytes.Clone(d.ID[:]))
		bodies = append(bodies, mark(i))
	}
	if n, err := db.Retire(ctx, "a", 0, store.Base{Through: 60, State: []byte("base")}); err != nil || n != 60 {
		t.Fatalf("Retire = %d, %v", n, err)
	}
	pool := db.Pool()
	var rows, kept int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM deltas WHERE id = ANY($1) OR body = ANY($2)`,
		ids[:60], bodies[:60]).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM deltas WHERE site = 'a'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if rows != 0 || kept != 40 {
		t.Fatalf("after Retire: %d rows of deleted ids or bodies, %d rows kept (want 0 and 40)", rows, kept)
	}

	// Where the bytes still are: read the table's file (as root, or the
	// server's user).
	var dir, rel string
	if err := pool.QueryRow(ctx, `SELECT current_setting('data_directory'), pg_relation_filepath('deltas')`).Scan(&dir, &rel); err != nil {
		t.Fatal(err)
	}
	inFile := func() (int, error) {
		if _, err := pool.Exec(ctx, `CHECKPOINT`); err != nil {
			return 0, err
		}
		if err := pool.QueryRow(ctx, `SELECT pg_relation_filepath('deltas')`).Scan(&rel); err != nil {
			return 0, err
		}
		raw, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return 0, err
		}
		n := 0
		for i := range 60 {
			if bytes.Contains(raw, mark(i)) {
				n++
			}
		}
		return n, nil
	}
	n, err := inFile()
	if err != nil {
		t.Skipf("cannot read the table's file to measure: %v", err)
	}
	t.Logf("after DELETE: %d of 60 deleted bodies still in the table's file", n)
	if _, err := pool.Exec(ctx, `VACUUM deltas`); err != nil {
		t.Fatal(err)
	}
	n, _ = inFile()
	t.Logf("after VACUUM: %d of 60", n)
	if _, err := pool.Exec(ctx, `VACUUM FULL deltas`); err != nil {
		t.Fatal(err)
	}
	if n, err = inFile(); err != nil {
		t.Fatal(err)
	}
	t.Logf("after VACUUM FULL: %d of 60 (a new file; the old one is unlinked)", n)
	if n != 0 {
		t.Errorf("VACUUM FULL left %d deleted bodies in the table's new file", n)
	}
	wal := 0
	filepath.WalkDir(filepath.Join(dir, "pg_wal"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err == nil && bytes.Contains(raw, mark(0)) {
			wal++
		}
		return nil
	})
	t.Logf("the first deleted body is in %d write-ahead log segment(s)", wal)
}

// TestMigrationCoarsens: migration 2 keeps the received times of the
// deltas recorded before it to the hour.
func TestMigrationCoarsens(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	db := open(t, url)
	ctx := context.Background()
	exact := time.Date(2026, 11, 30, 14, 37, 12, 345678901, time.UTC)
	// Back to schema 1, with a delta recorded at its exact time.
	for _, q := range []string{`DROP TABLE settings`, `DROP TABLE bases`, `DELETE FROM schema_migrations WHERE version >= 2`} {
		if _, err := db.Pool().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO deltas (site, seq, id, sha, model, received, body)
		VALUES ('a', 1, $1, $2, 0, $3, 'x')`, make([]byte, 16), make([]byte, 32), exact.UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, url)
	ds, err := db.Deltas(ctx, "a", 0, 10)
	if err != nil || len(ds) != 1 || !ds[0].Received.Equal(store.Coarse(exact)) {
		t.Fatalf("after migrating: %+v, %v; want received %v", ds, err, store.Coarse(exact))
	}
	if b, err := db.Base(ctx, "a"); err != nil || b.Through != 0 {
		t.Errorf("Base after migrating = %+v, %v", b, err)
	}
}
