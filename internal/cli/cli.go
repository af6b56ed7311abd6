// Package cli is the main function of Tailor's long-running commands
// (tailor-server, tailor-demo, bench), so that each command's main only
// names its body: the same signals stop them, and they report errors and
// exit alike.
//
//	func main() { cli.Main("tailor-demo", run) }
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Run is a command's body. It reads its flags from args and the
// environment through getenv, writes to stdout and stderr, and returns
// when ctx is done or its work is; a command's tests call it directly.
// Asked for its usage (-help), it prints it and returns nil.
type Run func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main calls run with the process's arguments, environment and output,
// under a context cancelled by SIGINT or SIGTERM (a second signal kills
// the process as usual), and exits: with status 1, the error printed
// after the command's name, if run fails.
func Main(name string, run Run) {
	os.Exit(exit(name, run, os.Stderr))
}

// exit runs run under the signal context and returns the exit status.
func exit(name string, run Run, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
