package query

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// securityWarehouse writes a warehouse with one team, a failed deployment
// and a gate decision, closes it, and returns its path and a folder of
// canary files (shadow, teams.csv) that the hostile queries name.
func securityWarehouse(t *testing.T) (path, canary string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path = filepath.Join(dir, "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`INSERT INTO teams (id, name, source) VALUES ('payments', 'Payments', 'file')`,
		`INSERT INTO deployments (id, service, environment, finished_at, status, source) VALUES ('d1', 'api', 'production', '2026-03-01 10:00:00+00', 'failure', 'file')`,
		`CREATE SEQUENCE s`,
		// a table macro of the warehouse, as transform defines metric_* and explain_*
		`CREATE MACRO failures_of(svc) AS TABLE SELECT id FROM deployments WHERE service = svc AND status = 'failure'`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	canary = filepath.Join(dir, "canary")
	if err := os.Mkdir(canary, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(canary, "shadow"), []byte("root:$6$secret:19000:0:99999:7:::\n"), 0o600)
	os.WriteFile(filepath.Join(canary, "teams.csv"), []byte("id,source\nintruder,file\n"), 0o644)
	return path, canary
}

func runQuery(t *testing.T, dbPath string, args ...string) (string, error) {
	t.Helper()
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: dbPath}
	cmd := NewCmdQuery(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(ios.ErrOut)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), err
}

// Every statement of the security review, and every kind of statement but
// a query, is refused by `shiplog query` before any of it runs: the
// warehouse file is byte for byte the same, and no file in the canary
// folder is opened, listed, read or created.
func TestQueryRefusesHostileStatements(t *testing.T) {
	path, canary := securityWarehouse(t)
	before := fixture.Digest(t, path, path+".wal")
	watch := fixture.WatchDir(t, canary)
	for _, allowFiles := range []bool{false, true} {
		for _, h := range fixture.HostileQueries(canary) {
			if allowFiles && h.Reads {
				continue
			}
			args := []string{"--format", "csv", h.SQL}
			if allowFiles {
				args = append([]string{"--allow-files"}, args...)
			}
			out, err := runQuery(t, path, args...)
			if err == nil || !strings.HasPrefix(err.Error(), "query: ") {
				t.Errorf("allow-files=%v %s: %q answered %q, %v; want a refusal", allowFiles, h.Name, h.SQL, out, err)
			}
			if ev := watch.Events(); len(ev) > 0 {
				t.Errorf("allow-files=%v %s: the canary folder was touched: %v", allowFiles, h.Name, ev)
			}
			if after := fixture.Digest(t, path, path+".wal"); after != before {
				t.Fatalf("allow-files=%v %s: the warehouse file changed", allowFiles, h.Name)
			}
		}
	}
	// The refusals name what was wrong.
	for sql, want := range map[string]string{
		"EXPLAIN ANALYZE DELETE FROM teams":  "EXPLAIN ANALYZE",
		"DELETE FROM teams; SELECT 1":        "holds 2 statements",
		"COPY teams TO 'x.csv'":              "COPY statements are refused",
		"FROM read_text('x')":                "read_text reads files",
		"SELECT * FROM query('SELECT 1')":    "table function query is refused",
		"SELECT * FROM 'teams.csv'":          `no table or view named "teams.csv"`,
		"SELECT * FROM nosuchtable":          `no table or view named "nosuchtable"`,
		"SELEC 1":                            "cannot parse the text",
		"SET threads = 1":                    "SET statements are refused",
		"/* c */ explain analyse select 1":   "EXPLAIN ANALYZE",
		"SELECT getenv('HOME') AS h":         "getenv is refused",
		"EXPLAIN DELETE FROM teams":          "EXPLAIN of a DELETE statement is refused",
		"EXPLAIN SELECT 1; DELETE FROM t":    "holds 2 statements",
		"WITH x AS (SELECT 1) DELETE FROM t": "statements are refused",
	} {
		if _, err := runQuery(t, path, sql); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", sql, err, want)
		}
	}
	// With files allowed, the guard still refuses the network itself,
	// however the URL is written (DuckDB, without httpfs, would fail too,
	// but later and for another reason).
	for sql, want := range map[string]string{
		"SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')":            `read_csv of "http://127.0.0.1:9/x.csv": files may be read, the network may not`,
		"SELECT * FROM read_csv(['a.csv', 'http://127.0.0.1:9/x.csv'])": `read_csv of "http://127.0.0.1:9/x.csv": files may be read, the network may not`,
		"SELECT * FROM read_csv('http://127.0.0.1:9' || '/x.csv')":      "the arguments of read_csv must be written out",
	} {
		if _, err := runQuery(t, path, "--allow-files", sql); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--allow-files %q: got %v, want an error containing %q", sql, err, want)
		}
	}
}

// Queries run as before: SELECT, WITH, FROM-first, DESCRIBE, EXPLAIN (the
// plan, not an analysis), and with --allow-files the user's own files.
func TestQueryStillAnswers(t *testing.T) {
	path, canary := securityWarehouse(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "csv", "SELECT id, name FROM teams"}, "id,name\npayments,Payments\n"},
		{[]string{"--format", "csv", "WITH f AS (SELECT * FROM deployments WHERE status = 'failure') SELECT count(*) AS n FROM f"}, "n\n1\n"},
		{[]string{"--format", "csv", "FROM teams SELECT upper(id) AS id"}, "id\nPAYMENTS\n"},
		{[]string{"--format", "csv", "SELECT count(*) AS n FROM range(3)"}, "n\n3\n"},
		{[]string{"--format", "csv", "SELECT id FROM failures_of('api')"}, "id\nd1\n"},
		{[]string{"--format", "csv", "SELECT column_name FROM (DESCRIBE teams) LIMIT 1"}, "column_name\nid\n"},
		{[]string{"--format", "csv", "SELECT currval('s') IS NULL AS x"}, ""},
		{[]string{"--allow-files", "--format", "csv", "SELECT id FROM read_csv('" + filepath.Join(canary, "teams.csv") + "')"}, "id\nintruder\n"},
		{[]string{"--allow-files", "--format", "csv", "SELECT id FROM '" + filepath.Join(canary, "teams.csv") + "'"}, "id\nintruder\n"},
	}
	for _, tt := range tests {
		out, err := runQuery(t, path, tt.args...)
		if tt.want == "" {
			continue // only that it does not panic or write
		}
		if err != nil || out != tt.want {
			t.Errorf("%v: got %q, %v; want %q", tt.args, out, err, tt.want)
		}
	}
	out, err := runQuery(t, path, "--format", "csv", "EXPLAIN SELECT * FROM teams")
	if err != nil || !strings.Contains(out, "physical_plan") || strings.Contains(out, "analyzed_plan") {
		t.Errorf("EXPLAIN: got %q, %v; want the physical plan", out, err)
	}
}
