package warehouse

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shiplog/shiplog/internal/canonical"
)

// The canonical tables created by the migrations must have exactly the
// columns the canonical package describes, with the same types.
func TestSchemaMatchesCanonicalKinds(t *testing.T) {
	ctx := context.Background()
	db, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, k := range canonical.Kinds {
		rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_name = ? ORDER BY ordinal_position`, k.Table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			got = append(got, name+" "+typ)
		}
		rows.Close()
		var want []string
		for _, f := range k.Fields {
			typ := f.Type.SQL()
			if typ == "TIMESTAMPTZ" {
				typ = "TIMESTAMP WITH TIME ZONE"
			}
			want = append(want, f.Name+" "+typ)
		}
		want = append(want, "extra JSON", "source VARCHAR")
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("table %s:\n got  %s\n want %s", k.Table, strings.Join(got, ", "), strings.Join(want, ", "))
		}
	}
}

func TestMigrateUpgradesOlderFileInPlace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	v1 := fstest.MapFS{"0001_first.sql": {Data: []byte("CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (7);")}}
	v2 := fstest.MapFS{
		"0001_first.sql":      v1["0001_first.sql"],
		"0002_add_column.sql": {Data: []byte("ALTER TABLE a ADD COLUMN y VARCHAR DEFAULT 'new';")},
	}
	raw, err := openRaw(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms1, _ := loadMigrations(v1)
	if err := raw.migrateTo(ctx, ms1); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	raw, err = openRaw(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms2, _ := loadMigrations(v2)
	if err := raw.migrateTo(ctx, ms2); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	var x int
	var y string
	if err := raw.QueryRowContext(ctx, "SELECT x, y FROM a").Scan(&x, &y); err != nil {
		t.Fatal(err)
	}
	if x != 7 || y != "new" {
		t.Errorf("after upgrade got (%d, %q), want (7, \"new\"): data must survive the migration", x, y)
	}
	if v, _ := raw.SchemaVersion(ctx); v != 2 {
		t.Errorf("schema version %d, want 2", v)
	}
	raw.Close()

	// A build that knows only version 1 must refuse the version 2 file.
	raw, err = openRaw(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	err = raw.migrateTo(ctx, ms1)
	if err == nil || !strings.Contains(err.Error(), "newer than this shiplog understands") {
		t.Fatalf("opening a newer file: got %v, want a refusal", err)
	}
}

func TestFailedMigrationKeepsLastGoodVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	raw, err := openRaw(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ms, _ := loadMigrations(fstest.MapFS{
		"0001_ok.sql":  {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"0002_bad.sql": {Data: []byte("CREATE TABLE b (x INTEGER); SELECT * FROM no_such_table;")},
	})
	if err := raw.migrateTo(ctx, ms); err == nil || !strings.Contains(err.Error(), "migration 0002 (bad)") {
		t.Fatalf("got %v, want an error naming migration 0002", err)
	}
	if v, _ := raw.SchemaVersion(ctx); v != 1 {
		t.Errorf("schema version %d after a failed migration, want 1", v)
	}
	var n int
	raw.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'b'").Scan(&n)
	if n != 0 {
		t.Error("the failed migration left table b behind")
	}
}

func TestReadOnlyOpenRefusesWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.ExecContext(ctx, "INSERT INTO teams (id, source) VALUES ('t', 'x')"); err == nil {
		t.Fatal("insert into a read-only warehouse succeeded")
	}
}

// Every instance refuses the arrow lambda DuckDB 2.0 dropped (LambdaSyntax),
// file or memory, while the keyword lambda and the JSON arrows still work.
func TestLambdaSyntaxIsTheKeywordForm(t *testing.T) {
	ctx := context.Background()
	file, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	mem, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	tests := []struct {
		sql, want, err string
	}{
		{sql: "SELECT list_transform([1, 2, 3], lambda x: x * 10)::VARCHAR", want: "[10, 20, 30]"},
		// The second parameter is the 1-based position: the second element goes.
		{sql: "SELECT list_filter(['a', 'b', 'c'], lambda x, i: i <> 2)::VARCHAR", want: "[a, c]"},
		{sql: "SELECT list_transform([1, 2], x -> x + 1)::VARCHAR", err: "Deprecated lambda arrow"},
		{sql: "SELECT list_filter([1, 2], (x, i) -> i > 1)::VARCHAR", err: "Deprecated lambda arrow"},
		{sql: `SELECT CAST('{"a": {"b": "c"}}' AS JSON) -> '$.a' ->> 'b'`, want: "c"},
		{sql: `SELECT CAST(CAST('{"a": [1, 2]}' AS JSON) -> 'a' AS VARCHAR)`, want: "[1,2]"},
	}
	for name, db := range map[string]*DB{"file": file, "memory": mem} {
		for _, tt := range tests {
			var got string
			err := db.QueryRowContext(ctx, tt.sql).Scan(&got)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("%s: %s = %q, %v; want an error containing %q", name, tt.sql, got, err, tt.err)
				}
			case err != nil:
				t.Errorf("%s: %s: %v", name, tt.sql, err)
			case got != tt.want:
				t.Errorf("%s: %s = %q, want %q", name, tt.sql, got, tt.want)
			}
		}
	}
}
