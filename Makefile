# Tailor. `make demo` runs the product; `make test` is what CI runs.
GO       ?= go
PORT     ?= 8080
DIST     := dist
# Reproducible: no paths, no VCS stamp, no build id, no symbols.
WASM_FLAGS := -trimpath -buildvcs=false -buildmode=c-shared -ldflags="-s -w -buildid="
GUEST_SRC  := $(shell find sdk wasm/guest wasm/abi -name '*.go' ! -name '*_test.go') go.mod go.sum
FUZZTIME ?= 10s

.PHONY: all wasm loader assets size test check bench fuzz fuzz-short demo clean replay

all: wasm

wasm: $(DIST)/tailor.wasm

$(DIST)/tailor.wasm: $(GUEST_SRC)
	@mkdir -p $(DIST)
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $@ ./wasm/guest

# The browser loader: dist/tailor.js (script tag), tailor.mjs (ES module),
# tailor.d.ts and the lazily loaded chunks tailor-extra.js and
# tailor-details.js; fails when the core, tailor.js, passes its brotli
# budget (8 KiB).
LOADER_SRC := $(wildcard sdk/js/src/*.js) sdk/js/tailor.d.ts sdk/js/package-lock.json build/loader.sh
loader: $(DIST)/tailor.js

$(DIST)/tailor.js: $(LOADER_SRC) $(DIST)/tailor.wasm
	./build/loader.sh

# The size budget: tailor.wasm against an empty reactor built the same way.
size: wasm
	GO=$(GO) ./build/size.sh $(DIST)/tailor.wasm

test: wasm loader
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./sdk/... ./wasm/guest ./wasm/abi
	$(GO) test -count=1 -p 1 ./...
	@test -x "$${CHROMIUM:-/usr/bin/chromium}" || echo "browser tests skipped: chromium not installed (sdk/js, demo-site/e2e; apt-get install chromium)"
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo "PostgreSQL tests skipped: postgresql not installed (server/store/postgres, server/cluster; apt-get install postgresql)"
	GO=$(GO) ./build/size.sh $(DIST)/tailor.wasm
	$(MAKE) -s fuzz-short

# A short fuzz run of the decoders that face untrusted bytes (make test
# runs it; make fuzz runs every target longer): 3 s each, or, after an @,
# a count of inputs: the guest's targets (the real tailor.wasm in wazero:
# a stored profile a page wrote, a model a server sent) run their seeds
# first, which compiles the guest into a cache every fuzz worker reads
# (compiling it in each worker outlasted the fuzzer's wait for a worker's
# first input at load 20).
FUZZ_SHORT := ./sdk/wire:FuzzWeights ./sdk/wire:FuzzDelta ./sdk/profile:FuzzProfile ./sdk/msgp:FuzzReader ./server/ingest:FuzzDecode ./server/aggregate:FuzzCheckpoint ./sdk/ldp:FuzzUnmarshal ./sdk/ldp:FuzzTableUnmarshal \
	./wasm/harness:FuzzHostileProfile@200x ./wasm/harness:FuzzGuestInput@200x
fuzz-short: export TAILOR_WAZERO_CACHE := $(abspath $(DIST))/wazero-cache
fuzz-short:
	@for e in $(FUZZ_SHORT); do \
		t=$${e%@*}; n=3s; case "$$e" in *@*) n=$${e##*@}; \
		  out=$$($(GO) test -count=1 -run="^$${t##*:}$$" $${t%%:*} 2>&1) || { echo "$$out"; exit 1; };; esac; \
		echo "fuzz $${t%%:*} $${t##*:} ($$n)"; \
		out=$$($(GO) test -run='^$$' -fuzz="^$${t##*:}$$" -fuzztime=$$n -parallel=2 $${t%%:*} 2>&1) || \
		{ case "$$out" in *"Failing input written"*) false;; *"context deadline exceeded"*) echo "  (the fuzzer's workers missed its deadline on a busy machine, no failing input: once more)"; \
		  out=$$($(GO) test -run='^$$' -fuzz="^$${t##*:}$$" -fuzztime=$$n -parallel=2 $${t%%:*} 2>&1);; *) false;; esac; } || { echo "$$out"; exit 1; }; \
	done

# Static checks, mirroring CI's expectations of a clean tree.
check:
	GOOS=wasip1 GOARCH=wasm $(GO) build ./sdk/... ./wasm/guest
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

# Every figure the product promises, in one table with the anchor of each
# (build/cmd/bench: sizes, rank in wazero and Chromium, first personalized
# slot, sync ingest, serving, replay); up to ~10 minutes, medians of
# BENCH_COUNT counts. Not part of make test.
BENCH_COUNT ?= 5
bench: assets
	$(GO) run ./build/cmd/bench -count $(BENCH_COUNT) -datasets $(DATASETS) | tee $(DIST)/bench.txt

# Short runs of every fuzz target (go test -fuzz takes one target at a time).
fuzz:
	./build/fuzz.sh $(FUZZTIME)

# What browsers download, as the server serves it: content-hashed names,
# brotli and gzip variants, and SRI hashes in $(DIST)/assets.json.
assets: $(DIST)/assets.json

$(DIST)/assets.json: $(DIST)/tailor.wasm $(DIST)/tailor.js build/assets.sh
	./build/assets.sh $(DIST)

# The product's server imports only server/ and sdk/ (TestProductAlone);
# the demo's command adds the demo store and the wasm runtime of its seeding.
SERVER_SRC := $(shell find server sdk -name node_modules -prune -o -type f ! -name '*_test.go' -print) go.mod go.sum
DEMO_SRC   := $(SERVER_SRC) $(shell find demo-site wasm -name node_modules -prune -o -type f ! -name '*_test.go' -print)

$(DIST)/tailor-server: $(SERVER_SRC)
	$(GO) build -o $@ ./server/cmd/tailor-server

$(DIST)/tailor-demo: $(DEMO_SRC)
	$(GO) build -o $@ ./demo-site/cmd/tailor-demo

# The product in its demo: the server and the demo store's pages on
# localhost:$(PORT) with the embedded store in ./data, serving $(DIST), its
# model seeded from 3,000 simulated shoppers the first time. Ctrl-C shuts
# it down gracefully.
demo: assets $(DIST)/tailor-demo
	$(DIST)/tailor-demo --addr localhost:$(PORT) --data data --dist $(DIST) --seed-demo 3000

clean:
	rm -rf $(DIST)

# The replay benchmark on real clickstreams (../shared/datasets): Tailor in
# its privacy modes and the baselines on the same data, into OUT
# (results.md, results.json, report.html). `make replay TRAIN=... EVAL=...`
# runs that split alone with the default set of modes (build/replay.sh;
# METHODS=a,b or METHODS=all for others). Plain `make replay` runs
# yoochoose-100k with every method, then the YOOCHOOSE 1/64 and DIGINETICA
# tuning splits with the default set (TUNING_METHODS, TUNING_SAMPLE) and
# the Open Bandit estimate.
DATASETS ?= ../shared/datasets
TRAIN    ?= $(DATASETS)/yoochoose-100k/train_tr.txt
EVAL     ?= $(DATASETS)/yoochoose-100k/train_valid.txt
OUT      ?= replay-out
ifneq ($(filter command line,$(origin TRAIN) $(origin EVAL)),)
REPLAY_SPLITS :=
else
REPLAY_SPLITS := $(DATASETS)
METHODS ?= all
endif
replay: wasm
	GO=$(GO) METHODS=$(METHODS) ./build/replay.sh $(TRAIN) $(EVAL) $(OUT) $(REPLAY_SPLITS)
