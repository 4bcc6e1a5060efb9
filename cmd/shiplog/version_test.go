package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// A binary built by `make build` reports the version, commit and tree state
// the Makefile passed to the linker, the DuckDB that SQL reports, and the
// driver version go.mod requires.
func TestBuiltBinaryReportsItsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	bin := filepath.Join(t.TempDir(), "shiplog")
	build := exec.Command("make", "-C", "../..", "build", "BIN="+bin,
		"VERSION=v9.8.7-1-gabcdef0", "COMMIT=abcdef0123456789abcdef0123456789abcdef01", "DIRTY=true")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}

	out, err := exec.Command(bin, "version", "--format", "json").Output()
	if err != nil {
		t.Fatalf("shiplog version: %v", err)
	}
	var got version.Info
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("version --format json: %v\n%s", err, out)
	}

	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var duck string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&duck); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(version.DriverModule) + `\s+(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatalf("go.mod requires no %s", version.DriverModule)
	}
	if got.Version != "v9.8.7-1-gabcdef0" || got.Commit != "abcdef0123456789abcdef0123456789abcdef01" || !got.Dirty ||
		got.DuckDB != duck || got.Driver != string(m[1]) {
		t.Errorf("version --format json = %+v; want v9.8.7-1-gabcdef0, commit abcdef01…, dirty, DuckDB %s, duckdb-go %s", got, duck, m[1])
	}

	short, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("shiplog --version: %v", err)
	}
	want := "shiplog v9.8.7-1-gabcdef0 (commit abcdef012345, modified) DuckDB " + duck + " (duckdb-go " + string(m[1]) + ")"
	if strings.TrimSpace(string(short)) != want {
		t.Errorf("--version = %q, want %q", short, want)
	}
}
