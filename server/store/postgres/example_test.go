package postgres_test

import (
	"context"
	"log"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/postgres"
)

// ExampleOpen shows a replica's use of the store: append, campaign for
// the aggregation, watch for versions. (It needs a database: compiled,
// not run.)
func ExampleOpen() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, "postgres://tailor@db.internal:5432/tailor")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	d := store.Delta{Site: "demo", ID: [16]byte{1}, Body: []byte("msgpack delta")}
	if _, err := db.Append(ctx, d); err != nil { // durable once it returns
		log.Fatal(err)
	}
	go db.Watch(ctx, func() { log.Print("a version may have been published") })
	lead, resign, err := db.Campaign(ctx) // blocks until this replica leads
	if err != nil {
		log.Fatal(err)
	}
	defer resign()
	<-lead.Done() // aggregate until then
}
