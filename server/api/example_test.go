package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store/bolt"
)

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "tailor")
	defer os.RemoveAll(dir)
	db, _ := bolt.Open(filepath.Join(dir, "tailor.db"))
	defer db.Close()
	sites, _ := site.NewSet(site.Site{Key: "shop", Origins: []string{"https://shop.example"}, Privacy: wire.PrivacyFederated})
	agg, _ := publish.New(db, sites)
	agg.Start(context.Background())
	defer agg.Close(context.Background())
	srv, err := api.New(db, agg, sites)
	if err != nil {
		panic(err)
	}
	if err := srv.Open("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Close()

	d := wire.Delta{Site: "shop", ID: [16]byte{7}, Pairs: []wire.Pair{{From: "gown", To: "heels", W: 1}},
		Items: []wire.Count{{ID: "gown", N: 1}, {ID: "heels", N: 1}}}
	res, err := http.Post(srv.URL()+"/v1/sync", "text/plain", bytes.NewReader(wire.Marshal(&d)))
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)
	// Output: 202 Accepted
}

func ExampleCompare() {
	// Treatment: 120 clicks in 1000 impressions; holdout: 80 in 1000.
	u, _ := api.Compare(120, 1000, 80, 1000)
	fmt.Printf("%+.3f [%.3f, %.3f] relative %+.0f%%\n", u.Absolute, u.CI95[0], u.CI95[1], 100**u.Relative)
	// Output: +0.040 [0.014, 0.066] relative +50%
}
