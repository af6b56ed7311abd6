// Package e2e holds the server's end-to-end tests: the real server on
// loopback (bbolt store, aggregator, HTTP API) driven by simulated shoppers
// (package demo-site/sim) running the real tailor.wasm through the wazero
// harness. They measure what the product promises: cold-start visitors
// rank better once the server learned from others, and a poisoning
// minority moves the model no more than the clipping allows.
package e2e
