package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

// TestExit checks what a command's process reports: nothing and status 0
// when its body succeeds, else the error after its name and status 1.
func TestExit(t *testing.T) {
	check := func(err error, wantStatus int, wantStderr string) {
		t.Helper()
		var stderr bytes.Buffer
		var ranWith context.Context
		status := exit("tool", func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
			ranWith = ctx
			return err
		}, &stderr)
		if status != wantStatus || stderr.String() != wantStderr {
			t.Errorf("run returning %v: exit %d, stderr %q; want %d, %q", err, status, stderr.String(), wantStatus, wantStderr)
		}
		// The signal context is released once run returns.
		if ranWith == nil || ranWith.Err() == nil {
			t.Errorf("run returning %v: its context is still live after exit", err)
		}
	}
	check(nil, 0, "")
	check(errors.New("--data is required"), 1, "tool: --data is required\n")
}
