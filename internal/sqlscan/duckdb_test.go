package sqlscan_test

import (
	"context"
	"testing"

	"github.com/shiplog/shiplog/internal/sqlscan"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// TestAgreesWithDuckDB checks the scanner against DuckDB itself: a
// statement means the same to DuckDB with its comments removed by the
// scanner, and the string literals the scanner finds are the values DuckDB
// returns for them.
func TestAgreesWithDuckDB(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		src  string
		want string // what DuckDB returns, as text
	}{
		{"SELECT '--x' -- trailing", "--x"},
		{"SELECT 'it''s' /* a /* nested */ comment */ || '!'", "it's!"},
		{"SELECT E'a\\'b' -- escape string", "a'b"},
		{"SELECT 'a\\' || 'b'", "a\\b"},
		{"SELECT $$ -- not a comment $$", " -- not a comment "},
		{"SELECT $q$ $$ ' $q$", " $$ ' "},
		{`SELECT "x--y" FROM (SELECT 'v' AS "x--y") -- c`, "v"},
		{"SELECT /* ; */ 'a;b'", "a;b"},
	}
	for _, tt := range tests {
		toks, err := sqlscan.Scan(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		for _, text := range []string{tt.src, sqlscan.StripComments(toks)} {
			var got string
			if err := db.QueryRowContext(ctx, text).Scan(&got); err != nil {
				t.Fatalf("DuckDB on %q: %v", text, err)
			}
			if got != tt.want {
				t.Errorf("DuckDB on %q = %q, want %q", text, got, tt.want)
			}
		}
		var lits []string
		for _, tok := range toks {
			if tok.Kind == sqlscan.String || tok.Kind == sqlscan.DollarString {
				lits = append(lits, tok.Value())
			}
		}
		if len(lits) == 1 && lits[0] != tt.want {
			t.Errorf("%s: scanner reads the literal as %q, DuckDB as %q", tt.src, lits[0], tt.want)
		}
	}

	// Statements split where DuckDB does: run one by one, the script
	// inserts two rows.
	script := `CREATE TEMP TABLE t (x VARCHAR); -- one;
INSERT INTO t VALUES (';'), ($$;$$) /* ; */;
SELECT count(*) FROM t WHERE x = ';'`
	toks, err := sqlscan.Scan(script)
	if err != nil {
		t.Fatal(err)
	}
	stmts := sqlscan.Statements(toks)
	if len(stmts) != 3 {
		t.Fatalf("%d statements, want 3: %+v", len(stmts), stmts)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts[:2] {
		if _, err := conn.ExecContext(ctx, s.SQL); err != nil {
			t.Fatalf("%q: %v", s.SQL, err)
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, stmts[2].SQL).Scan(&n); err != nil || n != 2 {
		t.Errorf("count = %d, %v; want 2", n, err)
	}
}
