package bolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "tailor")
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "tailor.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	d := store.Delta{Site: "demo", ID: [16]byte{1}, Body: []byte("msgpack delta")}
	a, _ := db.Append(ctx, d)
	retry, _ := db.Append(ctx, d) // a device retrying the same sync
	fmt.Println(a.Seq, a.Duplicate, retry.Seq, retry.Duplicate)
	// Output: 1 false 1 true
}
