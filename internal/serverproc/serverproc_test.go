package serverproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is its own child process: with $SERVERPROC_CHILD set it
// acts as a server would and exits.
func TestMain(m *testing.M) {
	switch os.Getenv("SERVERPROC_CHILD") {
	case "":
		os.Exit(m.Run())
	case "serve": // logs, serves until SIGTERM, logs its stop
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, `not json`)
		fmt.Fprintln(os.Stderr, `{"time":"2026-12-01T10:00:00Z","msg":"listening","addr":"127.0.0.1:1"}`)
		fmt.Fprintln(os.Stderr, `{"time":"2026-12-01T10:00:01Z","msg":"serving","addr":"127.0.0.1:2"}`)
		<-term
		fmt.Fprintln(os.Stderr, `{"msg":"stopped"}`)
		os.Exit(0)
	case "exit": // fails at once
		fmt.Fprintln(os.Stderr, `{"msg":"listening"}`)
		os.Exit(3)
	case "stubborn": // ignores SIGTERM
		signal.Ignore(syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, `{"msg":"serving"}`)
		time.Sleep(time.Hour)
	}
}

func child(t *testing.T, mode string) *Process {
	t.Helper()
	p, err := Start(os.Args[0], nil, append(os.Environ(), "SERVERPROC_CHILD="+mode))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func TestAwaitAndStop(t *testing.T) {
	p := child(t, "serve")
	r, err := p.Await(context.Background(), "serving")
	if err != nil || r.Addr != "127.0.0.1:2" || !r.Time.Equal(time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC)) {
		t.Fatalf("Await(serving) = %+v, %v", r, err)
	}
	if rs := p.Records("listening"); len(rs) != 1 || rs[0].Addr != "127.0.0.1:1" {
		t.Errorf("Records(listening) = %+v", rs)
	}
	if err := p.Stop(time.Minute); err != nil {
		t.Fatalf("Stop: %v\n%s", err, p.Logs())
	}
	if len(p.Records("stopped")) != 1 || !strings.HasPrefix(p.Logs(), "not json\n") || p.Tail(1) != "{\"msg\":\"stopped\"}\n" {
		t.Errorf("logs after the stop:\n%s", p.Logs())
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait after Stop: %v", err)
	}
}

func TestAwaitExited(t *testing.T) {
	p := child(t, "exit")
	_, err := p.Await(context.Background(), "serving")
	var exit *exec.ExitError
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Await on an exited process: %v", err)
	}
	if !errors.As(p.Wait(), &exit) || exit.ExitCode() != 3 {
		t.Errorf("Wait = %v, want exit status 3", p.Wait())
	}
	// A message logged before the exit is still found.
	if r, err := p.Await(context.Background(), "listening"); err != nil || r.Msg != "listening" {
		t.Errorf("Await(listening) after the exit = %+v, %v", r, err)
	}
}

func TestAwaitContext(t *testing.T) {
	p := child(t, "serve")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Await(ctx, "never logged"); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "never logged") {
		t.Errorf("Await with a canceled context: %v", err)
	}
}

func TestStopKills(t *testing.T) {
	p := child(t, "stubborn")
	if _, err := p.Await(context.Background(), "serving"); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(50 * time.Millisecond); !errors.Is(err, ErrStopped) {
		t.Errorf("Stop of a process ignoring SIGTERM: %v", err)
	}
	select {
	case <-p.Done():
	default:
		t.Error("the process runs on after Stop")
	}
}
