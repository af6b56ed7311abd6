// Command tailor-demo serves Tailor's demo store, what `make demo` runs:
// the Tailor server (package server/serve, with every flag of
// tailor-server) serving the store's pages beside its API, the demo's
// site configuration allowing the server's own origin, and, the first
// time, a model learned from simulated shoppers who run the real
// tailor.wasm (--seed-demo).
//
//	tailor-demo --addr localhost:8080 --data ./data --dist ./dist --seed-demo 3000
//
// With --catalog-size N the store sells N synthetic products instead
// (demosite.Synthetic, listed a page at a time), and --seed-demo's
// shoppers walk them on sdk/device natively (sim.Large): what issue 12's
// Chromium measurement of model bytes per page view runs on.
//
// It prints how to read the demo store's stats with an owner token, new
// at every start.
package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/internal/cli"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/serve"
	"github.com/tailorhq/tailor/server/site"
)

func main() { cli.Main("tailor-demo", run) }

const usage = `tailor-demo: Tailor's demo store, served by the Tailor server.

The store's pages load tailor.js from the server, which learns from their
visitors as tailor-server does; the first start seeds the model from
--seed-demo simulated shoppers running dist/tailor.wasm. The server's own
flags all apply (see tailor-server --help), but for --sites: the demo
serves its own site, "demo".

Flags:
`

// run serves the demo store until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	d := new(demo)
	return serve.Run(ctx, args, getenv, stdout, stderr,
		serve.WithUsage(usage),
		serve.WithFlags(func(fs *flag.FlagSet) {
			fs.IntVar(&d.seed, "seed-demo", 0, "with no model yet: learn one from this many simulated `shoppers` first, run on dist/tailor.wasm (make demo: 3000)")
			fs.IntVar(&d.size, "catalog-size", 0, fmt.Sprintf("sell this many synthetic `products` (1-%d) instead of the demo's own; 0: the demo's", demosite.MaxSynthetic))
		}),
		serve.WithSites(d.sites), serve.WithPages(d.pages), serve.WithStart(d.start))
}

// demo is the demo store's part of the server.
type demo struct {
	seed  int    // --seed-demo
	size  int    // --catalog-size
	token string // the demo site's owner token, new at every start

	catalog *demosite.Catalog // the synthetic catalogue (--catalog-size), else nil
}

// sites returns the demo site, allowing the server's own origins, with a
// new owner token for its stats.
func (d *demo) sites(addr *net.TCPAddr, configured string) (*site.Set, error) {
	port := strconv.Itoa(addr.Port)
	origins := []string{"http://localhost:" + port, "http://127.0.0.1:" + port}
	if host, _, err := net.SplitHostPort(configured); err == nil && host != "" && host != "localhost" && host != "127.0.0.1" {
		origins = append(origins, "http://"+strings.ToLower(net.JoinHostPort(host, port)))
	}
	s := demosite.Site(origins...)
	token, hash := site.NewToken()
	s.OwnerHash, _ = hex.DecodeString(hash)
	d.token = token
	return site.NewSet(s)
}

// pages returns the store's pages, loading tailor.js under its
// content-hashed name with its integrity hash.
func (d *demo) pages(asset func(name string) (api.AssetRef, bool)) (http.Handler, error) {
	var opts []demosite.Option
	if d.size != 0 {
		c, err := demosite.Synthetic(d.size)
		if err != nil {
			return nil, err
		}
		d.catalog = c
		opts = append(opts, demosite.WithCatalog(c))
	}
	store, err := demosite.NewStore(func() demosite.Script {
		if ref, ok := asset("tailor.js"); ok {
			return demosite.Script{Src: ref.URL, Integrity: ref.Integrity}
		}
		return demosite.Script{Src: "/tailor.js"}
	}, demosite.Key, opts...)
	if err != nil {
		return nil, err
	}
	return store.Handler(), nil
}

// start seeds the model (embedded store only: replicas sharing PostgreSQL
// learn from visitors), then prints how to read the store's stats.
func (d *demo) start(ctx context.Context, s serve.Started) {
	if !s.Shared {
		seed := func() error { return seedDemo(ctx, s.Log, s.Aggregator, s.Local, s.Dist, d.seed) }
		if d.catalog != nil {
			seed = func() error { return seedLarge(ctx, s.Log, s.Aggregator, s.Local, d.catalog, d.seed) }
		}
		if err := seed(); err != nil {
			s.Log.Error("the demo model was not seeded; the store still works, learning from visitors", "err", err)
		}
	}
	// Shown once, on stdout rather than in the logs, which may be kept.
	fmt.Fprintf(s.Stdout, "The demo store's stats (owner token, new at every start):\n"+
		"  curl -H 'Authorization: Bearer %s' 'http://%s/v1/stats?site=%s'\n"+
		"The console: http://%s/console (sign in with the same token)\n", d.token, s.Addr, demosite.Key, s.Addr)
}
