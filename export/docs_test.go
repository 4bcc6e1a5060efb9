package export

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The DuckDB queries docs/export.md marks as checked run against a Parquet
// export (lake/shiplog) and a CSV export (lake/shiplog-csv) of the demo, in
// the folder the docs assume, and return what the docs say they return.
func TestDocsDuckDBExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/export.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- checked: (duckdb(?:-csv)?) -->\\s*```sql\\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 4 {
		t.Fatalf("found %d checked examples in docs/export.md, want at least 4", len(blocks))
	}
	db, _ := demoWarehouse(t)
	dir := t.TempDir()
	runExport(t, db, Options{Out: filepath.Join(dir, "lake", "shiplog")})
	runExport(t, db, Options{Out: filepath.Join(dir, "lake", "shiplog-csv"), Format: "csv", Tables: []string{"services"}})
	t.Chdir(dir)
	services := count(t, db, "SELECT count(*) FROM services")
	for i, b := range blocks {
		sqlText := strings.TrimSpace(b[2])
		rows, err := db.Query(sqlText)
		if err != nil {
			t.Errorf("example %d fails: %v\n%s", i+1, err, sqlText)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		switch {
		case strings.Contains(sqlText, "-- no rows: complete"):
			if n != 0 {
				t.Errorf("example %d (completeness) found %d incomplete months", i+1, n)
			}
		case b[1] == "duckdb-csv":
			if int64(n) != services {
				t.Errorf("example %d read %d services from the CSV export, want %d", i+1, n, services)
			}
		case n == 0:
			t.Errorf("example %d returned no rows:\n%s", i+1, sqlText)
		}
	}
}
