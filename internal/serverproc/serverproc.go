// Package serverproc runs a Tailor server command (tailor-server,
// tailor-demo) as a child process, for the tests that check a built
// binary (server/cmd/tailor-server, demo-site/e2e) and for build/cmd/bench:
// it builds the command, starts it, reads the JSON log it writes on stderr
// (keeping the last lines for a failure's report), waits for a log message
// and stops the process with SIGTERM, killing it past a grace period.
//
// It exists so that those three share one copy of that plumbing; what
// each checks stays with it. Starting the demo with a seeded model, which
// two of them need, is StartDemo:
//
//	d, err := serverproc.StartDemo(ctx, serverproc.DemoConfig{Root: root, Shoppers: 300})
//	if err != nil { ... } // the error carries the demo's last log lines
//	defer d.Stop()
//	http.Get(d.URL + "/")
//
// # Notes
//
// A Process's methods are goroutine-safe. It is not built for wasip1.
package serverproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors of a process that ended or did not answer in time, wrapped with
// context.
var (
	ErrExited  = errors.New("serverproc: the process exited")
	ErrStopped = errors.New("serverproc: the process did not stop on SIGTERM: killed")
)

// Build compiles the main package pkg (relative to dir, e.g. "." or
// "./demo-site/cmd/tailor-demo") into the file bin with goCmd ("go" if
// empty).
func Build(ctx context.Context, goCmd, dir, pkg, bin string) error {
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return nil
}

// MakeDist builds in root's dist/ what the demo serves there (StartDemo's
// --dist): tailor.wasm, the loader and the hashed assets, as `make demo`
// does (make -s wasm loader assets; what is up to date is left as is).
func MakeDist(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, "make", "-s", "wasm", "loader", "assets")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make -s wasm loader assets: %w\n%s", err, out)
	}
	return nil
}

// Record is one JSON log record of a server: when, its message and, on
// the records that announce a listener, the address.
type Record struct {
	Time time.Time
	Msg  string
	Addr string
}

// maxLines is how many of the last log lines a Process keeps.
const maxLines = 20000

// Process is a server command running as a child process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and err is set
	err  error         // cmd.Wait's

	mu      sync.Mutex
	lines   []string      // the last maxLines lines of stderr
	total   int           // lines read, kept or not
	changed chan struct{} // closed, and replaced, at each new line
}

// Start starts bin with args and the environment env (the parent's when
// nil) and reads its stderr until it exits.
func Start(bin string, args, env []string) (*Process, error) {
	p := &Process{cmd: exec.Command(bin, args...), done: make(chan struct{}), changed: make(chan struct{})}
	p.cmd.Env = env
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.add(sc.Text())
		}
		// A line over 1 MiB ends the scan: drain the rest so the process
		// never blocks on a full pipe.
		io.Copy(io.Discard, stderr)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *Process) add(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total++
	if p.lines = append(p.lines, line); len(p.lines) > maxLines {
		p.lines = p.lines[len(p.lines)-maxLines:]
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// Records returns the kept log records whose message is msg, oldest first.
func (p *Process) Records(msg string) []Record {
	p.mu.Lock()
	lines := p.lines
	p.mu.Unlock()
	return records(lines, msg)
}

// records returns the records among lines whose message is msg.
func records(lines []string, msg string) []Record {
	var out []Record
	for _, line := range lines {
		var r Record
		if json.Unmarshal([]byte(line), &r) == nil && r.Msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// Await waits for the first record whose message is msg and returns it;
// it fails with ErrExited if the process exits first, or with ctx's error
// (with the message awaited) if ctx ends first. It reads each line once.
func (p *Process) Await(ctx context.Context, msg string) (Record, error) {
	read := 0 // lines looked at, counted as p.total counts
	for {
		p.mu.Lock()
		lines, total, changed := p.lines, p.total, p.changed
		p.mu.Unlock()
		if rs := records(lines[max(0, len(lines)-(total-read)):], msg); len(rs) > 0 {
			return rs[0], nil
		}
		read = total
		select {
		case <-changed:
		case <-p.done:
			if rs := p.Records(msg); len(rs) > 0 {
				return rs[0], nil
			}
			return Record{}, fmt.Errorf("%w (%v) before logging %q", ErrExited, p.err, msg)
		case <-ctx.Done():
			return Record{}, fmt.Errorf("no %q in the log: %w", msg, ctx.Err())
		}
	}
}

// Logs returns the kept lines of the log, each ending in a newline.
func (p *Process) Logs() string { return p.Tail(maxLines) }

// Tail returns the last n lines of the log, each ending in a newline.
func (p *Process) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines[max(0, len(p.lines)-n):]
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed once the process has exited; Wait then returns at once.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns how it did (nil for
// status 0), as exec.Cmd.Wait does; it may be called many times.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Kill kills the process, if it still runs, and waits for it to exit.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and waits up to grace for the process to exit,
// returning how it did; past grace it kills the process and returns
// ErrStopped.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	p.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
		p.Kill()
		return fmt.Errorf("%w after %v", ErrStopped, grace)
	}
}
