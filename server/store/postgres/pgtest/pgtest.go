// Package pgtest runs a real PostgreSQL server for tests: initdb into a
// temporary directory, pg_ctl start on a free loopback port, and a fresh
// database per caller. Tests that need one call Start, which skips the
// test with a clear message when PostgreSQL is not installed (Debian's
// postgresql package; .ci/run installs it).
//
//	pg := pgtest.Start(t)
//	url := pg.NewDatabase(t) // postgres://tailor@127.0.0.1:PORT/db1
//	pg.Stop(t)               // a database outage...
//	pg.Restart(t)            // ...and its end, on the same port
//
// Running as root, PostgreSQL refuses to start; the helper then runs
// initdb and pg_ctl as the postgres user (which the package creates),
// owning the data directory.
//
// # Notes
//
// A Server is goroutine-safe. It is stopped (immediately) and its
// directory removed when the test that started it ends.
package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Server is a PostgreSQL server of a test, on 127.0.0.1.
type Server struct {
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string // data directory
	port int
	cred *syscall.Credential // whom to run as; nil: this process's user

	mu  sync.Mutex
	dbs atomic.Int64
}

// User is the superuser of the test server (trust authentication).
const User = "tailor"

// Bin returns the directory of PostgreSQL's server programs, or "" when
// PostgreSQL is not installed.
func Bin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil { // Debian's live in /usr/lib/postgresql/N/bin
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
				return filepath.Dir(p)
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) }) // newest first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initializes and starts a server for the test, or skips the test
// when PostgreSQL is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Bin()
	if bin == "" {
		t.Skip("pgtest: PostgreSQL is not installed (initdb and pg_ctl not found in PATH nor /usr/lib/postgresql/*/bin): " +
			"apt-get install postgresql, as .ci/run does")
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("pgtest: running as root, and PostgreSQL refuses to; no postgres user to run it as: " + err.Error())
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "tailor-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	s.dir = filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", s.dir, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	s.port = freePort(t)
	t.Cleanup(func() { s.command("pg_ctl", "-D", s.dir, "-m", "immediate", "-w", "stop").Run() })
	s.Restart(t)
	return s
}

// command runs one of PostgreSQL's programs as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	cmd.Dir = os.TempDir()
	return cmd
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Restart starts the server (again, after Stop) on its port and waits
// until it accepts connections.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 "+
		"-c shared_buffers=32MB -c log_min_messages=warning", s.port)
	cmd := s.command("pg_ctl", "-D", s.dir, "-l", filepath.Join(filepath.Dir(s.dir), "server.log"), "-o", opts, "-w", "-t", "60", "start")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, s.Log())
	}
}

// Stop stops the server: fast mode, as an operator's restart does
// (sessions are terminated, committed work is kept).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, err := s.command("pg_ctl", "-D", s.dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

// Log returns the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.dir), "server.log"))
	return string(b)
}

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.port }

// URL returns the connection URL of a database of the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, s.port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("db%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-U", User, name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("pgtest: createdb %s: %v\n%s", name, err, out.String())
	}
	return s.URL(name)
}

// CPU returns the processor time the server's processes (the postmaster
// and its children alive now) have used, for benchmarks to tell where time
// goes. It reads /proc; elsewhere it returns 0.
func (s *Server) CPU() time.Duration {
	b, err := os.ReadFile(filepath.Join(s.dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	pm, _ := strconv.Atoi(string(bytes.TrimSpace(first)))
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime: fields 14 and 15, counted
		// after the parenthesized command, which may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		ppid, _ := strconv.Atoi(string(f[1]))
		if pid != pm && ppid != pm {
			continue
		}
		u, _ := strconv.ParseInt(string(f[11]), 10, 64)
		st, _ := strconv.ParseInt(string(f[12]), 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}
