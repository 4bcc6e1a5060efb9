package export

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/cli/demo/run"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

var (
	demoOnce sync.Once
	demoFile string
	demoErr  error
	demoDir  string
)

// testVersion is the build written into test manifests, with the DuckDB
// version of the library so that incremental runs can compare hashes.
func testVersion(t testing.TB) version.Info {
	t.Helper()
	e, err := warehouse.EngineVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return version.Info{Version: "v0.0.0-test", Commit: "0123456789abcdef", Go: "go1.26", Platform: "linux/amd64", DuckDB: e.Version, DuckDBSource: e.SourceID, Driver: "v2.0.0-test"}
}

// demoWarehouse returns a warehouse file of its own holding the embedded
// demo organisation, transformed with the demo's configuration (its
// freezes) and with the demo's gate decisions recorded, so that every mart
// has rows. The demo is loaded and transformed once
// per test binary and copied for each test.
func demoWarehouse(t *testing.T) (*warehouse.DB, string) {
	t.Helper()
	demoOnce.Do(func() {
		demoDir, demoErr = os.MkdirTemp("", "shiplog-export-test-")
		if demoErr != nil {
			return
		}
		demoFile = filepath.Join(demoDir, "demo.duckdb")
		ctx := context.Background()
		var db *warehouse.DB
		if db, demoErr = warehouse.Open(ctx, demoFile, warehouse.Options{}); demoErr != nil {
			return
		}
		defer db.Close()
		var paths []string
		if paths, demoErr = demo.ExtractEmbedded(filepath.Join(demoDir, "data")); demoErr != nil {
			return
		}
		if _, demoErr = file.Load(ctx, db, paths, file.Options{}); demoErr != nil {
			return
		}
		cfg := run.Config()
		if demoErr = transform.Run(ctx, db, cfg, transform.Options{}); demoErr != nil {
			return
		}
		demoErr = run.RecordGates(ctx, db, cfg, io.Discard)
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	path := filepath.Join(t.TempDir(), "shiplog.duckdb")
	copyFile(t, demoFile, path)
	db, err := warehouse.Open(context.Background(), path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	os.Exit(code)
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// runExport runs an export with the test clock and version.
func runExport(t *testing.T, db *warehouse.DB, opts Options) *Result {
	t.Helper()
	res, err := tryExport(t, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tryExport(t *testing.T, db *warehouse.DB, opts Options) (*Result, error) {
	t.Helper()
	if opts.Version == (version.Info{}) {
		opts.Version = testVersion(t)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) }
	}
	return Run(context.Background(), db, opts)
}

// snapshot maps every file under dir (relative path) to its SHA-256, and
// every folder to "dir".
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = sha256Hex(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			diffs = append(diffs, "changed or missing: "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "added: "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], "…")
		}
		t.Errorf("%s:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

// siblings lists the entries beside dir that an export of dir may leave
// (staging folders).
func siblings(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(dir)+".") {
			out = append(out, e.Name())
		}
	}
	return out
}

func loadJSONL(t *testing.T, db *warehouse.DB, lines ...string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "more.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture.Load(t, db, p)
}

func retransform(t *testing.T, db *warehouse.DB) {
	t.Helper()
	if err := transform.Run(context.Background(), db, run.Config(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
}
