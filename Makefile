# tap-recurly: make build | test | lint | demo | bench
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/tap-recurly/tap-recurly/cli.Version=$(VERSION)
export CGO_ENABLED ?= 0

.PHONY: build test test-short fuzz lint demo bench clean

## build: static binaries bin/tap-recurly and bin/recurly-sim
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/tap-recurly ./cmd/tap-recurly
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/recurly-sim ./cmd/recurly-sim

## test: every test with the race detector, then each fuzz target briefly.
## The fuzz budget is a count of executions, not a duration: Go 1.26's fuzz
## coordinator can fail a target with a bare "context deadline exceeded" when
## a -fuzztime duration expires (golang/go#75804, fixed in Go 1.27); a count
## has no wall-clock deadline, so only a real crasher fails the run.
test:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) fuzz FUZZTIME=50000x

FUZZTIME ?= 200000x
## fuzz: run every fuzz target for FUZZTIME each (a count such as 50000x)
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/fuzz.$$$$.log 2>&1 || { cat /tmp/fuzz.$$$$.log; exit 1; }; \
		done; \
	done

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## demo: simulated site + full sync + incremental sync, no credentials needed
demo: build
	$(GO) run ./demo -tap bin/tap-recurly -out demo/out

## bench: benchmarks against the simulated site; writes BENCHMARKS.md
bench: build
	./scripts/bench.sh

clean:
	rm -rf bin demo/out
