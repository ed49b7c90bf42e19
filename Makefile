# evote — build, test, check and benchmark.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
PKGS        := ./...
# Seconds each fuzz target runs in `make fuzz` (CI runs a short pass in `make test`).
FUZZTIME    ?= 10s
BENCHTIME   ?= 1s

.PHONY: all build wasm demo test test-race fuzz check fmt vet staticcheck bench bench-large clean

all: build

build:
	$(GO) build -o bin/evote ./cmd/evote

# The voter's WebAssembly module (evote's ballot, credential and crypto code)
# and Go's loader, committed under web/ui/static and embedded in the binary.
# Reproducible (-trimpath): web/ui's TestWasmUpToDate fails when it is stale.
# The build flags are in web/ui/wasm/build-flags, which that test reads too.
wasm:
	GOOS=js GOARCH=wasm $(GO) build $$(sed 's/#.*//' web/ui/wasm/build-flags) -o web/ui/static/evote.wasm ./web/ui/wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" web/ui/static/wasm_exec.js

# A whole election on a local 4-node cluster, checked end to end (about a
# minute). DEMOFLAGS=--serve keeps the cluster up afterwards.
demo: build
	./bin/evote demo $(DEMOFLAGS)

# The whole suite, as CI runs it: a short pass of every fuzz target, then the
# unit, property, vector, CLI, storage (PostgreSQL at 127.0.0.1:5432) and
# multi-node tests.
test:
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-race:
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

# Runs every Fuzz* target of every package for FUZZTIME each. Go 1.26's fuzzing
# coordinator sometimes fails a target with "context deadline exceeded" as
# FUZZTIME runs out (golang/go#75804, fixed in Go 1.27), with no failing input.
# So a target that fails without saving a failing input under testdata/fuzz is
# run again for a count of executions (FUZZRETRY), which has no deadline to
# race and replays every saved input; only if that fails too does the run.
FUZZRETRY ?= 10000x
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for pkg in $$($(GO) list $(PKGS)); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$f"; \
	    if ! $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg >$$log 2>&1; then \
	      cat $$log; \
	      if [ -n "$$(cd $$dir && git status --porcelain testdata/fuzz/$$f 2>/dev/null)" ]; then \
	        echo "fuzz: $$f found a failing input (saved in $$dir/testdata/fuzz/$$f)"; exit 1; \
	      fi; \
	      echo "fuzz: $$f failed without a failing input; retrying with -fuzztime=$(FUZZRETRY)"; \
	      $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZRETRY) $$pkg; \
	    fi; \
	  done; \
	done

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

# What CI runs, plus gofmt, vet, staticcheck and the race detector.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(MAKE) --no-print-directory vet staticcheck test-race
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s

# Benchmarks of the headline figures: runs them, prints one table and writes
# it to docs/benchmarks.md. BENCHTIME=3x gives a quick, rougher pass.
BENCHPKGS := ./crypto/ ./crypto/dkg/ ./crypto/shuffle/ ./count/ ./ballot/ ./ballot/credential/ ./rules/ ./chain/ ./chain/store/... ./tally/ ./verify/
BENCHVOTERS ?= 5000
# Each client waits for its committed receipt before casting again, so the
# load is at most clients ÷ receipt latency: 384 keeps the cluster busy.
BENCHCLIENTS ?= 384
# The same cluster benchmark with the nodes' state in PostgreSQL (schemas
# evote_demo_node0…, dropped and made again by the demo).
BENCHDATABASE ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# The same cluster benchmark with every byte between two nodes delayed
# BENCHP2PDELAY each way, as between distant organisations
# (BenchmarkClusterCastWAN; docs/operations.md §6), with fewer voters.
BENCHP2PDELAY  ?= 50ms
BENCHWANVOTERS ?= 2000
bench: build
	$(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) -timeout 60m $(BENCHPKGS) | tee bench.out
	rm -rf bench-cluster bench-prof && mkdir bench-prof && EVOTE_CPUPROFILE_DIR=$$PWD/bench-prof EVOTE_CPUPROFILE_WINDOW=1 \
		./bin/evote demo --dir bench-cluster --config election-configs/benchmark-10-selections.yaml \
		--voters $(BENCHVOTERS) --clients $(BENCHCLIENTS) --revote 0 --audit 0 --invalid 0 --bench-out bench.out
	rm -rf bench-cluster-wan && ./bin/evote demo --dir bench-cluster-wan --p2p-delay $(BENCHP2PDELAY) \
		--config election-configs/benchmark-10-selections.yaml \
		--voters $(BENCHWANVOTERS) --clients $(BENCHCLIENTS) --revote 0 --audit 0 --invalid 0 --bench-out bench.out
	rm -rf bench-cluster-pg && ./bin/evote demo --dir bench-cluster-pg --database-url "$(BENCHDATABASE)" \
		--config election-configs/benchmark-10-selections.yaml \
		--voters $(BENCHVOTERS) --clients $(BENCHCLIENTS) --revote 0 --audit 0 --invalid 0 --bench-out bench.out
	{ echo "# Where a node's CPU goes"; echo; \
	  echo "Written by \`make bench\` from the CPU profiles of the 4 nodes of its cluster benchmark, taken while the $(BENCHVOTERS) voters cast (internal/cpubreak: each sample goes to the first component, in the table's order of internal/cpubreak, with a function on its stack)."; echo; \
	  $(GO) run ./internal/cpubreak/cmd -ballots $(BENCHVOTERS) -nodes 4 bench-prof/evote-node-start-*-window.cpu.pprof; } > docs/benchmarks-cpu.md
	$(GO) test -count=1 -run 'TestBrowser' -v ./web/uitest 2>&1 | awk '\
		/evote.wasm: .* gzipped/ { for (i=1;i<=NF;i++) if ($$(i+1)=="gzipped") print "BenchmarkWasmGzipSize 1 " $$i " gzip-bytes" } \
		/in headless Chromium: mean/ { for (i=1;i<=NF;i++) if ($$i=="mean") print "BenchmarkBrowserEncrypt10 1 " $$(i+1)*1e6 " ns/op" }' >> bench.out
	$(GO) run ./internal/benchtable -in bench.out -out docs/benchmarks.md

# A record of BENCHLARGE_N ten-selection ballots (internal/largerecord: four
# authorities, real ballots and proofs), generated once into bench-large/ and
# reused for the same N, verified with `evote verify --record`: the time, the
# verifier's peak memory and its cost per selection against batched 0/1-proof
# verification in the same run, written to docs/benchmarks-large.md. Not part
# of `make bench`: a million ballots take about 45 minutes to generate on two
# cores, and 6 GB of disk.
BENCHLARGE_N ?= 1000000
bench-large: build
	$(GO) run ./internal/largerecord/cmd -n $(BENCHLARGE_N) -dir bench-large -evote bin/evote -go $(GO) -out docs/benchmarks-large.md

clean:
	rm -rf bin bench.out bench-cluster bench-cluster-pg bench-cluster-wan bench-prof bench-large demo-data
