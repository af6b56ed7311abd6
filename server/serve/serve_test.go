package serve

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/site"
)

// testAdminToken is an admin token long enough.
const testAdminToken = "admin-token-of-the-command-tests-0000000"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(c *config) bool
		wantErr bool
	}{
		{"defaults", nil, nil, func(c *config) bool {
			return c.addr == "localhost:8080" && c.data == "data" && c.store == "" && c.publishEvery == 1000 && c.params.MinCohort == 5
		}, false},
		{"env", nil, map[string]string{"TAILOR_ADDR": "127.0.0.1:9", "TAILOR_MIN_COHORT": "3", "TAILOR_PUBLISH_INTERVAL": "5s"},
			func(c *config) bool {
				return c.addr == "127.0.0.1:9" && c.params.MinCohort == 3 && c.publishInterval == 5*time.Second
			}, false},
		{"flag wins over env", []string{"--min-cohort", "7"}, map[string]string{"TAILOR_MIN_COHORT": "3"},
			func(c *config) bool { return c.params.MinCohort == 7 }, false},
		{"noise", []string{"--noise", "gaussian", "--epsilon", "1", "--delta", "1e-6"}, nil,
			func(c *config) bool { return c.params.Noise == "gaussian" && c.params.Epsilon == 1 }, false},
		{"store", []string{"--store", "postgres://tailor@db/tailor"}, nil,
			func(c *config) bool { return c.store == "postgres://tailor@db/tailor" }, false},
		{"store from env", nil, map[string]string{"TAILOR_STORE": "postgresql://db/tailor"},
			func(c *config) bool { return c.store == "postgresql://db/tailor" }, false},
		{"store not a postgres URL", []string{"--store", "mysql://db"}, nil, nil, true},
		{"bad env value", nil, map[string]string{"TAILOR_SHARDS": "many"}, nil, true},
		{"bad flag", []string{"--no-such-flag"}, nil, nil, true},
		{"invalid parameters", []string{"--clip-weight", "0"}, nil, nil, true},
		{"gaussian without epsilon", []string{"--noise", "gaussian", "--delta", "1e-6"}, nil, nil, true},
		{"stray argument", []string{"serve"}, nil, nil, true},
		{"surface defaults", nil, nil, func(c *config) bool {
			return c.syncRate == 1 && c.syncBurst == 60 && !c.trustForwardedFor && c.adminToken == "" &&
				c.statsDeltas == api.DefaultStatsDeltas && c.statsDelay == api.DefaultStatsDelay
		}, false},
		{"admin token from env", nil, map[string]string{"TAILOR_ADMIN_TOKEN": testAdminToken},
			func(c *config) bool { return c.adminToken == testAdminToken }, false},
		{"short admin token", []string{"--admin-token", "secret"}, nil, nil, true},
		{"rate limit off", []string{"--sync-rate", "0", "--trust-forwarded-for"}, nil,
			func(c *config) bool { return c.syncRate == 0 && c.trustForwardedFor }, false},
		{"negative rate", []string{"--sync-rate", "-1"}, nil, nil, true},
		{"no burst", []string{"--sync-burst", "0"}, nil, nil, true},
		{"stats every delta", []string{"--stats-min-deltas", "0"}, nil, nil, true},
		{"model lag within an epoch", []string{"--max-model-lag", "63"}, nil, nil, true},
		{"model lag of an epoch", []string{"--max-model-lag", "64"}, nil, func(c *config) bool { return c.maxModelLag == 64 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parse(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parse: %v, want error %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--publish-every", "TAILOR_PUBLISH_EVERY", "--sites", "--min-cohort", "--noise", "--clip-l1", "--shutdown-timeout", "--store", "TAILOR_STORE",
		"--sync-rate", "--trust-forwarded-for", "TAILOR_ADMIN_TOKEN", "--stats-min-deltas"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %s", want)
		}
	}
}

// TestTokenCommand: `tailor-server token` prints a token and the SHA-256 a
// site's configuration keeps.
func TestTokenCommand(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"token"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\n  ([A-Za-z0-9_-]{43})\n.*"owner_token_sha256": "([0-9a-f]{64})"`).FindStringSubmatch(out.String())
	if m == nil || site.HashToken(m[1]) != m[2] {
		t.Fatalf("token printed:\n%s", out.String())
	}
	if err := Run(context.Background(), []string{"token", "extra"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Error("token with an argument: no error")
	}
}

// TestNoSites: the server alone needs --sites; a command's WithSites
// stands in for it.
func TestNoSites(t *testing.T) {
	args := []string{"--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data")}
	if err := Run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard); !errors.Is(err, ErrNoSites) {
		t.Errorf("no --sites: %v, want ErrNoSites", err)
	}
	for _, opt := range []Option{WithSites(nil), WithPages(nil), WithStart(nil)} {
		if err := Run(context.Background(), []string{"--help"}, func(string) string { return "" }, io.Discard, io.Discard, opt); err == nil {
			t.Error("a nil option function: no error")
		}
	}
}

// TestOptions runs a server composed as the demo's command composes it: a
// flag of its own (set from the environment too), its sites from the
// address it listens on, pages beside the API, and a start hook that sees
// the server serving.
func TestOptions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var greeting string
	var gotAddr *net.TCPAddr
	opts := []Option{
		WithUsage("tailor-test: a test's server.\n"),
		WithFlags(func(fs *flag.FlagSet) { fs.StringVar(&greeting, "greeting", "", "what the pages say") }),
		WithSites(func(addr *net.TCPAddr, configured string) (*site.Set, error) {
			gotAddr = addr
			return site.NewSet(site.Site{Key: "test", Origins: []string{"http://" + addr.String()}})
		}),
		WithPages(func(asset func(string) (api.AssetRef, bool)) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, ok := asset("tailor.js")
				io.WriteString(w, greeting+" "+map[bool]string{true: "with", false: "without"}[ok]+" tailor.js")
			}), nil
		}),
	}
	getenv := func(k string) string { return map[string]string{"TAILOR_GREETING": "hello"}[k] }
	var help bytes.Buffer
	if err := Run(ctx, []string{"--help"}, getenv, &help, &help, opts...); err != nil ||
		!strings.HasPrefix(help.String(), "tailor-test: a test's server.") || !strings.Contains(help.String(), "--greeting") {
		t.Errorf("--help: %v\n%s", err, help.String())
	}
	args := []string{"--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--dist", ""}
	if err := Run(ctx, append(args, "--sites", "sites.json"), getenv, io.Discard, io.Discard, opts...); !errors.Is(err, ErrOwnSites) {
		t.Errorf("--sites beside WithSites: %v, want ErrOwnSites", err)
	}
	s, wait := start(t, ctx, args, getenv, opts...)
	if s.Addr.String() != gotAddr.String() || s.Shared || s.Aggregator == nil || s.Local == nil {
		t.Errorf("started %+v, sites asked for %v", s, gotAddr)
	}
	if _, ok := s.Aggregator.Current("test"); !ok {
		t.Error("the start hook runs before the site's first version is published")
	}
	res, err := http.Get("http://" + s.Addr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hello without tailor.js" {
		t.Errorf("the pages say %q", b)
	}
	cancel()
	wait()
}

// start runs Run(ctx, args, ...) in the background with opts and a start
// hook, and returns what the hook saw once the server serves; the test
// fails if Run returns first. After cancelling ctx, wait checks that Run
// then returned cleanly.
func start(t *testing.T, ctx context.Context, args []string, getenv func(string) string, opts ...Option) (s Started, wait func()) {
	t.Helper()
	started := make(chan Started, 1)
	opts = append(opts[:len(opts):len(opts)], WithStart(func(ctx context.Context, s Started) { started <- s }))
	done := make(chan error, 1)
	go func() { done <- Run(ctx, args, getenv, io.Discard, io.Discard, opts...) }()
	select {
	case s = <-started:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	return s, func() {
		t.Helper()
		if err := <-done; err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	}
}
