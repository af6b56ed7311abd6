// Command tailor-server is the Tailor server: it receives profile deltas
// from devices, aggregates them into model versions, and serves the model,
// the uplift report, and tailor.js and tailor.wasm (package server/serve).
// Run it with --help for its flags; every flag can also be set by an
// environment variable (TAILOR_ and the flag's name in capitals, dashes as
// underscores).
//
//	tailor-server --addr localhost:8080 --data ./data --dist ./dist --sites sites.json
//
// It shuts down gracefully on SIGINT or SIGTERM: it stops accepting,
// drains requests in flight, publishes what is pending and closes the
// store. It is the product alone: the demo store is another command,
// demo-site/cmd/tailor-demo (make demo).
package main

import (
	"context"
	"io"

	"github.com/tailorhq/tailor/internal/cli"
	"github.com/tailorhq/tailor/server/serve"
)

func main() { cli.Main("tailor-server", run) }

// run is the server with no option beyond its flags: the product alone.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return serve.Run(ctx, args, getenv, stdout, stderr)
}
