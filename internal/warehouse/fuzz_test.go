package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	guardOnce sync.Once
	guardDB   *DB
	guardDir  string
	guardErr  error
)

// guardFixture is one sealed warehouse file per fuzzing process, with a
// row in teams, a sequence and a canary file beside it.
func guardFixture(t *testing.T) (*DB, string) {
	guardOnce.Do(func() {
		guardDir, guardErr = os.MkdirTemp("", "shiplog-fuzz-guard-")
		if guardErr != nil {
			return
		}
		os.WriteFile(filepath.Join(guardDir, "shadow"), []byte("secret\n"), 0o600)
		ctx := context.Background()
		var db *DB
		if db, guardErr = Open(ctx, filepath.Join(guardDir, "w.duckdb"), Options{}); guardErr != nil {
			return
		}
		_, guardErr = db.Exec(`INSERT INTO teams (id, source) VALUES ('t1', 'file'); CREATE SEQUENCE s; CHECKPOINT`)
		db.Close()
		if guardErr == nil {
			guardDB, guardErr = Open(ctx, filepath.Join(guardDir, "w.duckdb"), Options{Sandbox: true})
		}
	})
	if guardErr != nil {
		t.Fatal(guardErr)
	}
	return guardDB, guardDir
}

// state fingerprints what no query may change: the warehouse file and its
// log byte for byte, the folder's file names and sizes, and the settings.
func state(t *testing.T, db *DB, dir string) string {
	h := sha256.New()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" {
			continue // DuckDB's own spill folder
		}
		info, _ := e.Info()
		io.WriteString(h, e.Name()+"|"+info.ModTime().String()+"|")
		if e.Name() == "w.duckdb" || e.Name() == "w.duckdb.wal" || e.Name() == "shadow" {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			h.Write(b)
		}
	}
	var settings string
	if err := db.QueryRow(`SELECT string_agg(name || '=' || coalesce(value, ''), ';' ORDER BY name) FROM duckdb_settings()
		WHERE name IN ('memory_limit', 'threads', 'enable_external_access', 'lock_configuration', 'allowed_directories', 'TimeZone')`).Scan(&settings); err != nil {
		t.Fatal(err)
	}
	io.WriteString(h, settings)
	return hex.EncodeToString(h.Sum(nil))
}

// FuzzGuard: whatever the text, the guard decides without panicking; a
// text it accepts is one statement that DuckDB's splitter counts as one,
// and running it (for at most two seconds) leaves the warehouse file, the
// folder beside it and the settings exactly as they were.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "EXPLAIN SELECT * FROM teams", "WITH a AS (SELECT 1) SELECT * FROM a", "FROM teams",
		"EXPLAIN ANALYZE DELETE FROM teams", "DELETE FROM teams; SELECT 1", "SET memory_limit='64MB'; SELECT 1",
		"ATTACH 'x.duckdb' AS x; SELECT 1", "FROM read_text('shadow')", "SELECT * FROM 'shadow'",
		"COPY (SELECT 1) TO 'out.csv'; SELECT 1", "SELECT nextval('s')", "SELECT * FROM query('SELECT 1')",
		"/* c */ explain select 1", "SELECT * FROM checkpoint()", "PIVOT teams ON id", "SUMMARIZE teams",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		db, dir := guardFixture(t)
		c, err := Parse(text, Policy{})
		if err != nil {
			return
		}
		ps, _ := sharedParser()
		if n, err := ps.count(c.SQL); err != nil || n != 1 {
			t.Fatalf("accepted %q runs %q: %d statements, %v", text, c.SQL, n, err)
		}
		before := state(t, db, dir)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		rows, done, err := db.QueryReadOnly(ctx, text, Policy{})
		if err == nil {
			for i := 0; i < 1000 && rows.Next(); i++ {
			}
			done()
		}
		if after := state(t, db, dir); after != before {
			t.Fatalf("%q changed the warehouse, the folder or a setting", text)
		}
	})
}
