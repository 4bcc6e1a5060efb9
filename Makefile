# shiplog — build, demo and tests. `make demo` and `make test` are the two
# commands a fresh machine needs (see README.md).

GO       ?= go
# duckdb_arrow enables the DuckDB driver's Arrow API (used by the Flight SQL
# endpoint of `shiplog serve`).
TAGS     ?= duckdb_arrow
BIN      ?= bin/shiplog
DEMO_DIR ?= shiplog-demo

# The version `shiplog version` reports: the nearest tag as `git describe`
# names it, the commit, and whether tracked files had uncommitted changes.
# Outside a git checkout (or with no tag) these are empty and the binary
# falls back to what the Go toolchain stamped, then to "devel".
VERSION_PKG := github.com/shiplog/shiplog/internal/version
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DIRTY   ?= $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false)
LDFLAGS ?= -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).dirty=$(DIRTY)

.PHONY: build demo test bench vet fmt clean

build:
	$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shiplog

demo: build
	./$(BIN) demo --dir $(DEMO_DIR)

test:
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -count=1 -timeout 30m ./...

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchtime 1x ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin $(DEMO_DIR)
