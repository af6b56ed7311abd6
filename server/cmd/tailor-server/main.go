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
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tailorhq/tailor/server/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tailor-server:", err)
		os.Exit(1)
	}
}
