# shiplog — build, demo and tests. `make demo` and `make test` are the two
# commands a fresh machine needs (see README.md).

GO       ?= go
# duckdb_arrow enables the DuckDB driver's Arrow API (used by the Flight SQL
# endpoint of `shiplog serve`).
TAGS     ?= duckdb_arrow
BIN      ?= bin/shiplog
DEMO_DIR ?= shiplog-demo

.PHONY: build demo test bench vet fmt clean

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/shiplog

demo: build
	./$(BIN) demo --dir $(DEMO_DIR)

test:
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -count=1 ./...

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchtime 1x ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin $(DEMO_DIR)
