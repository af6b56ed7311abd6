package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tailorhq/tailor/server/console"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/server/store/postgres"
)

const purgeUsage = `tailor-server purge: take a time window's deltas out of a site's model.

	tailor-server purge --site KEY --from 2026-12-01T08:00:00Z --to 2026-12-01T10:00:00Z
	tailor-server purge --site KEY --from -6h --to -4h

deletes the deltas the site received in [--from, --to), widened to whole
hours (the store records arrivals to the hour), rebuilds the aggregate from
the site's base checkpoint and the deltas still stored, and publishes it as
a new version. The window must have ended. Earlier versions are immutable:
they keep the purged deltas' influence, and are served only to a client
asking for one by number. Deltas older than the retention window are gone,
folded into the base checkpoint: a window reaching them is refused (their
influence decays). Running a purge again is harmless.

Give it the server's flags or environment (--data or --store, --sites and
the aggregation flags): the new version is aggregated as the server would,
and a purge whose site configuration or clipping differ from the latest
version's is refused. With the embedded store (--data), stop the server
first: its file admits one process. With PostgreSQL (--store), the replicas
keep running: the leader restores from the purged version at its next
publication.

Times are RFC 3339 (2026-12-01T08:00:00Z) or a negative duration from now
(-6h).

Flags (the server's flags apply too; see tailor-server --help):
`

// purge runs `tailor-server purge`.
func purge(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, o *options) error {
	var key, fromArg, toArg string
	c, err := parse(args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&key, "site", "", "the `key` of the site to purge")
		fs.StringVar(&fromArg, "from", "", "the window's `start`, included")
		fs.StringVar(&toArg, "to", "", "the window's `end`, excluded")
		fs.Usage = func() {
			fmt.Fprint(stderr, purgeUsage)
			for _, f := range []string{"site", "from", "to"} {
				name, help := flag.UnquoteUsage(fs.Lookup(f))
				fmt.Fprintf(stderr, "  --%s %s\n    \t%s\n", f, name, help)
			}
		}
	})
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if key == "" || fromArg == "" || toArg == "" {
		return errors.New("purge: --site, --from and --to are required (see tailor-server purge --help)")
	}
	now := time.Now()
	from, err := parseWhen(fromArg, now)
	if err != nil {
		return fmt.Errorf("purge: --from: %w", err)
	}
	to, err := parseWhen(toArg, now)
	if err != nil {
		return fmt.Errorf("purge: --to: %w", err)
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	addr, err := net.ResolveTCPAddr("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("purge: --addr: %w", err)
	}
	sites, err := o.loadSites(c, addr)
	if err != nil {
		return err
	}
	st, err := openPurgeStore(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	// The owner's edit of the rules (console) is part of the configuration
	// the latest version was published with; sites added in the console
	// are served as the file's.
	levers := console.NewLevers(st, 0, log)
	if err := console.NewRegistry(st, sites, levers, log).Load(ctx); err != nil {
		return err
	}
	agg, err := publish.New(st, sites, append(aggregateOptions(c, log), publish.WithSiteConfig(levers.SiteConfig))...)
	if err != nil {
		return err
	}
	r, err := agg.Purge(ctx, key, from, to)
	if errors.Is(err, store.ErrRetired) {
		return fmt.Errorf("purge: %w: the deltas received then are older than the retention window; they were folded into the base checkpoint and deleted, so their influence cannot be taken out (it decays); purge a later window", err)
	}
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	fmt.Fprintf(stdout, "purged site %s: deleted %d deltas received in [%s, %s); rebuilt the aggregate from the base checkpoint and %d deltas; published version %d (%d deltas).\n",
		r.Site, r.Deleted, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), r.Folded, r.Version.Number, r.Version.Deltas)
	fmt.Fprintf(stdout, "Versions before %d are immutable and keep the purged deltas' influence; they are served only to clients asking for them by number.\n", r.Version.Number)
	return nil
}

// parseWhen reads an RFC 3339 time, or a negative duration from now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d), nil
	}
	return time.Parse(time.RFC3339, s)
}

// openPurgeStore opens the server's store, refusing to create one, and
// says what to do when a running server holds the embedded store.
func openPurgeStore(ctx context.Context, c *config) (store.Store, error) {
	if c.store != "" {
		return postgres.Open(ctx, c.store)
	}
	path := filepath.Join(c.data, "tailor.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("purge: no embedded store (--data %s): %w", c.data, err)
	}
	db, err := bolt.Open(path, bolt.WithTimeout(time.Second))
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("purge: %w: stop the server first (the embedded store's file admits one process), purge, then start it again", err)
	}
	return db, err
}
