package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// TestLoadsIntoCanonicalTables reads every generated file with DuckDB's JSON
// reader, typed as the canonical columns, into the canonical tables: times
// must parse as TIMESTAMPTZ, lists as VARCHAR[], numbers as their types.
func TestLoadsIntoCanonicalTables(t *testing.T) {
	dir := defaultData(t)
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := map[string]int{}
	for _, k := range canonical.Kinds {
		var cols, types []string
		for _, f := range k.Fields {
			cols = append(cols, warehouse.QuoteIdent(f.Name))
			types = append(types, fmt.Sprintf("%s: '%s'", warehouse.QuoteString(f.Name), f.Type.SQL()))
		}
		path := filepath.Join(dir, FileName(k.Name))
		q := fmt.Sprintf(`insert into %s (%s, source) select %s, 'demo' from read_json(%s, format = 'newline_delimited', columns = {%s})`,
			warehouse.QuoteIdent(k.Table), strings.Join(cols, ", "), strings.Join(cols, ", "), warehouse.QuoteString(path), strings.Join(types, ", "))
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "select count(*) from "+warehouse.QuoteIdent(k.Table)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[k.Name] = n
	}
	ds := defaultDataset(t)
	for _, k := range canonical.Kinds {
		if counts[k.Name] != len(ds[k.Name]) {
			t.Errorf("%s: %d rows loaded, %d lines", k.Name, counts[k.Name], len(ds[k.Name]))
		}
	}
	// Worked by hand from README.md: CHG-90015 (auth hotfix) was implemented
	// and reviewed 4 days 22 hours = 118 hours apart; CHG-40015 8 days 3
	// hours = 195 hours.
	for id, want := range map[string]float64{"CHG-90015": 118, "CHG-40015": 195} {
		var h float64
		err := db.QueryRowContext(ctx, `select epoch(reviewed_after_at - implemented_at) / 3600 from change_requests where id = ?`, id).Scan(&h)
		if err != nil || h != want {
			t.Errorf("%s review delay = %v h (%v), want %v", id, h, err, want)
		}
	}
}
