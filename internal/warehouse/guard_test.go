package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		sql   string
		files bool
		run   string // the text to run; "" for a refusal
		err   string
	}{
		{sql: "SELECT 1", run: "SELECT 1"},
		{sql: "select 1;", run: "select 1;"},
		{sql: "WITH a AS (SELECT 1 AS x) SELECT x FROM a", run: "WITH a AS (SELECT 1 AS x) SELECT x FROM a"},
		{sql: "FROM teams", run: "FROM teams"},
		{sql: "VALUES (1), (2)", run: "VALUES (1), (2)"},
		{sql: "DESCRIBE teams", run: "DESCRIBE teams"},
		{sql: "SUMMARIZE teams", run: "SUMMARIZE teams"},
		{sql: "SELECT * FROM teams WHERE id = $1", run: "SELECT * FROM teams WHERE id = $1"},
		{sql: "SELECT * FROM range(3), unnest([1, 2])", run: "SELECT * FROM range(3), unnest([1, 2])"},
		{sql: "SELECT * FROM duckdb_tables()", run: "SELECT * FROM duckdb_tables()"},
		// EXPLAIN runs as EXPLAIN of exactly the statement DuckDB accepted.
		{sql: "explain SELECT 1", run: "EXPLAIN SELECT 1"},
		{sql: "  /* plan */ EXPLAIN\n  -- of\n  FROM teams", run: "EXPLAIN -- of\n  FROM teams"},
		{sql: "EXPLAIN ANALYZE SELECT 1", err: "EXPLAIN ANALYZE"},
		{sql: "explain analyse select 1", err: "EXPLAIN ANALYZE"},
		{sql: "EXPLAIN (ANALYZE, FORMAT json) SELECT 1", err: "EXPLAIN ANALYZE"},
		{sql: "EXPLAIN (FORMAT json) SELECT 1", err: "EXPLAIN with options"},
		{sql: "EXPLAIN DELETE FROM teams", err: "EXPLAIN of a DELETE statement is refused"},
		{sql: "EXPLAIN SELECT 1; DELETE FROM teams", err: "holds 2 statements"},
		// One statement only, counted by DuckDB's splitter.
		{sql: "SELECT 1; SELECT 2", err: "holds 2 statements"},
		{sql: "DELETE FROM gate_decisions; SELECT 1", err: "holds 2 statements"},
		{sql: "SELECT ';'; SELECT 2 -- ;", err: "holds 2 statements"},
		{sql: "SELECT 'a;b' AS x -- ; DELETE", run: "SELECT 'a;b' AS x -- ; DELETE"},
		{sql: "", err: "holds no statement"},
		{sql: " ;; ", err: "holds no statement"},
		{sql: "SELEC 1", err: "cannot parse the text: Parser Error: syntax error"},
		// Other statement kinds, named by their first word.
		{sql: "delete from teams", err: "DELETE statements are refused"},
		{sql: "/* x */ COPY teams TO 'x.csv'", err: "COPY statements are refused"},
		// A PIVOT without an IN list is more than a query: DuckDB 1.5
		// splits it in two (an enum type, then a SELECT), 2.0 parses it
		// as a PIVOT statement. Refused either way, with the same hint;
		// with its values listed it is one query.
		{sql: "PIVOT teams ON id", err: "DuckDB runs a PIVOT without an IN list as more than a query: list the values"},
		{sql: "SELECT * FROM (PIVOT teams ON source)", err: "DuckDB runs a PIVOT without an IN list as more than a query: list the values"},
		{sql: "PIVOT teams ON source IN ('file', 'github') USING count(*)", run: "PIVOT teams ON source IN ('file', 'github') USING count(*)"},
		{sql: "(SELECT 1)", run: "(SELECT 1)"},
		// Functions.
		{sql: "SELECT * FROM read_csv('x.csv')", err: "table function read_csv reads files"},
		{sql: "SELECT * FROM read_csv('x.csv')", files: true, run: "SELECT * FROM read_csv('x.csv')"},
		{sql: "SELECT * FROM glob('*')", files: true, run: "SELECT * FROM glob('*')"},
		// Files, not the network: every name a reader is given is
		// written in the text, so that the guard sees each URL; DuckDB
		// 1.5 and 2.0 write constants and arguments differently.
		{sql: "SELECT * FROM read_csv('https://example.com/a.csv')", files: true, err: `read_csv of "https://example.com/a.csv": files may be read, the network may not`},
		{sql: "SELECT * FROM read_csv(['a.csv', 'https://example.com/b.csv'])", files: true, err: `read_csv of "https://example.com/b.csv": files may be read, the network may not`},
		{sql: "SELECT * FROM read_parquet([['a.parquet'], ['S3://bucket/x.parquet']])", files: true, err: `read_parquet of "S3://bucket/x.parquet": files may be read`},
		{sql: "SELECT * FROM read_csv('a.csv', columns = {'a': 'VARCHAR', 'https://example.com/c': 'VARCHAR'})", files: true, err: `read_csv of "https://example.com/c": files may be read`},
		{sql: "SELECT * FROM read_csv(('hf://datasets/x.csv'))", files: true, err: `read_csv of "hf://datasets/x.csv": files may be read`},
		{sql: "SELECT * FROM glob('https://example.com/*')", files: true, err: `glob of "https://example.com/*": files may be read`},
		{sql: "SELECT * FROM read_csv(list_concat(['a.csv'], ['https://example.com/b.csv']))", files: true, err: "the arguments of read_csv must be written out (strings, numbers, lists and structs of them), not computed: found the function list_concat"},
		{sql: "SELECT * FROM read_csv('https:' || '//example.com/a.csv')", files: true, err: "not computed: found the function ||"},
		{sql: "SELECT * FROM read_json(concat('http', 's:/', '/example.com/a.json'))", files: true, err: "not computed: found the function concat"},
		{sql: "SELECT * FROM read_csv(['a.csv', lower('HTTPS://EXAMPLE.COM/B.CSV')])", files: true, err: "not computed: found the function lower"},
		{sql: "SELECT * FROM read_csv({'u': 'a.csv'}.u)", files: true, err: "not computed: found"},
		{sql: "SELECT * FROM read_csv((SELECT 'https://example.com/a.csv'))", files: true, err: "not computed: found a subquery expression"},
		{sql: "SELECT * FROM read_csv('a.csv', delim = getenv('D'))", files: true, err: "not computed: found the function getenv"},
		{sql: "SELECT * FROM read_csv('a.csv', filename = t.x)", files: true, err: "not computed: found the column t.x"},
		{sql: "SELECT * FROM (SELECT 1), read_text(['a.txt', 'https://example.com/b.txt'])", files: true, err: `read_text of "https://example.com/b.txt"`},
		{sql: "WITH u AS (SELECT 1) SELECT * FROM u, (FROM read_csv(['https://example.com/w.csv']))", files: true, err: `read_csv of "https://example.com/w.csv"`},
		// What a reader's arguments are written with passes.
		{sql: "SELECT * FROM read_csv('a.csv'::VARCHAR, header = true, skip = -1, nullstr = NULL, dateformat = '%d/%m/%Y', columns = {'a': 'VARCHAR', 'b': 'DECIMAL(10, 2)'}, types = ['INTEGER'])", files: true,
			run: "SELECT * FROM read_csv('a.csv'::VARCHAR, header = true, skip = -1, nullstr = NULL, dateformat = '%d/%m/%Y', columns = {'a': 'VARCHAR', 'b': 'DECIMAL(10, 2)'}, types = ['INTEGER'])"},
		{sql: "SELECT * FROM read_parquet(['a.parquet', 'b/*.parquet'], hive_partitioning = true, hive_types = MAP {'y': 'INTEGER'})", files: true,
			run: "SELECT * FROM read_parquet(['a.parquet', 'b/*.parquet'], hive_partitioning = true, hive_types = MAP {'y': 'INTEGER'})"},
		{sql: "SELECT * FROM read_json('e.jsonl', columns = {'at': 'TIMESTAMPTZ'}, timestampformat = '%Y-%m-%dT%H:%M:%S%z', maximum_depth = 2.0::INTEGER)", files: true,
			run: "SELECT * FROM read_json('e.jsonl', columns = {'at': 'TIMESTAMPTZ'}, timestampformat = '%Y-%m-%dT%H:%M:%S%z', maximum_depth = 2.0::INTEGER)"},
		// The table function that feeds the transform's Go rows to DuckDB
		// is not a query's to call.
		{sql: "SELECT * FROM shiplog_rows(1)", files: true, err: "table function shiplog_rows is refused"},
		{sql: "SELECT * FROM 's3://bucket/x.parquet'", files: true, err: `"s3://bucket/x.parquet": files may be read, the network may not`},
		{sql: "SELECT * FROM query('SELECT 1')", files: true, err: "table function query is refused"},
		{sql: "SELECT * FROM checkpoint()", files: true, err: "table function checkpoint is refused"},
		{sql: "SELECT * FROM arrow_scan(1, 2, 3)", err: "table function arrow_scan is refused"},
		{sql: "SELECT GETENV('HOME')", files: true, err: "function getenv is refused"},
		{sql: "SELECT nextval('s')", err: "function nextval is refused"},
		{sql: "SELECT lower(id) FROM teams", run: "SELECT lower(id) FROM teams"},
		{sql: "SELECT list_transform(['A'], lambda x: lower(x))", run: "SELECT list_transform(['A'], lambda x: lower(x))"},
		{sql: "SELECT list_filter(['a'], lambda x, i: getenv(x) = '')", err: "function getenv is refused"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.sql, Policy{Files: tt.files})
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) || !IsRefused(err) {
				t.Errorf("Parse(%q) = %v, %v; want a refusal containing %q", tt.sql, c, err, tt.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", tt.sql, err)
		case c.SQL != tt.run:
			t.Errorf("Parse(%q) runs %q, want %q", tt.sql, c.SQL, tt.run)
		}
	}
}

// Table names must be tables or views of the warehouse (or named
// subqueries), so that none falls through to a replacement scan of a file.
func TestGuardChecksTableNames(t *testing.T) {
	ctx := context.Background()
	db, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.ReadOnlyConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for sql, want := range map[string]string{
		"SELECT * FROM teams":                                          "",
		"SELECT * FROM main.TEAMS":                                     "",
		"SELECT * FROM information_schema.tables":                      "",
		"WITH x AS (SELECT 1) SELECT * FROM x":                         "",
		"SELECT * FROM 'teams.csv'":                                    `no table or view named "teams.csv"`,
		"WITH \"t.csv\" AS (SELECT 1) SELECT * FROM \"t.csv\"":         `no table or view named "t.csv"`,
		"SELECT * FROM nope":                                           `no table or view named "nope"`,
		"SELECT * FROM (SELECT * FROM teams) JOIN 'x.parquet' ON true": `no table or view named "x.parquet"`,
	} {
		_, err := Guard(ctx, conn.Conn, sql, Policy{})
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("Guard(%q) = %v, want %q", sql, err, want)
		}
	}
	if _, err := Guard(ctx, conn.Conn, "SELECT * FROM 'teams.csv'", Policy{Files: true}); err != nil {
		t.Errorf("with files allowed: %v", err)
	}
}

// The guard is one layer of three. Without it, a statement that reached a
// reading connection of a sealed, writable instance (as `shiplog serve`
// opens the warehouse) still could not write the warehouse, change a
// setting or reach a file outside the allowed folders; the writers keep
// the settings and folders they need. (The checkpoint() table function is
// the exception: a READ ONLY transaction lets it rewrite the file with the
// same data, and only the guard refuses it.)
func TestSealedInstanceHoldsWithoutTheGuard(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	allowed := filepath.Join(dir, "data")
	canary := filepath.Join(dir, "canary")
	for _, d := range []string{allowed, canary} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(allowed, "teams.csv"), []byte("id,source\nt1,file\n"), 0o644)
	os.WriteFile(filepath.Join(canary, "shadow"), []byte("secret\n"), 0o600)
	db, err := Open(ctx, filepath.Join(dir, "w.duckdb"), Options{Sandbox: true, AllowedDirs: []string{allowed}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SEQUENCE s`); err != nil {
		t.Fatal(err)
	}
	q := func(p string) string { return QuoteString(filepath.Join(canary, p)) }

	rc, err := db.ReadOnlyConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"INSERT INTO teams (id, source) VALUES ('x', 'y')",
		"DELETE FROM teams",
		"SELECT nextval('s')",
		"SET memory_limit = '64MB'",
		"SET enable_external_access = true",
		"SET lock_configuration = false",
		"SELECT * FROM read_text(" + q("shadow") + ")",
		"COPY (SELECT 1) TO " + q("out.csv"),
		"ATTACH " + q("x.duckdb") + " AS x",
		"INSTALL httpfs",
	} {
		if _, err := rc.ExecContext(ctx, s); err == nil {
			t.Errorf("a reading connection ran %q", s)
		}
		// A failed statement aborts the transaction: start a new one.
		rc.Close()
		if rc, err = db.ReadOnlyConn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rc.Close()
	if entries, _ := os.ReadDir(canary); len(entries) != 1 {
		t.Errorf("the canary folder holds %d files, want only shadow", len(entries))
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM teams`).Scan(&n); err != nil || n != 0 {
		t.Errorf("teams: %d, %v", n, err)
	}

	// The writers keep what they need.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{
		"SET TimeZone = 'UTC'",
		"SET preserve_insertion_order = false",
		"RESET preserve_insertion_order",
		"INSERT INTO teams (id, source) SELECT id, source FROM read_csv(" + QuoteString(filepath.Join(allowed, "teams.csv")) + ")",
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Errorf("a writer could not run %q: %v", s, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "SET threads = 1"); err == nil {
		t.Error("a locked configuration changed threads")
	}
}

// BenchmarkGuard is what the guard adds to every query: parsing by DuckDB
// twice (the splitter, the serializer) and walking the tree.
func BenchmarkGuard(b *testing.B) {
	const q = `WITH f AS (SELECT service, count(*) AS n FROM deployments WHERE status = 'failure' GROUP BY ALL)
		SELECT d.service, count(*) AS deployments, any_value(f.n) AS failures FROM deployments AS d LEFT JOIN f USING (service) GROUP BY ALL ORDER BY 2 DESC`
	for i := 0; i < b.N; i++ {
		if _, err := Parse(q, Policy{}); err != nil {
			b.Fatal(err)
		}
	}
}
