package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// loadFixture inserts a canonical JSON Lines file into the canonical
// tables with DuckDB's read_ndjson_objects and explicit casts per field
// (source "file"; the whole record kept as extra). It stands in for the
// canonical file loader in tests and assumes a valid file.
func loadFixture(t *testing.T, db *warehouse.DB, path string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range canonical.Kinds {
		cols := []string{}
		exprs := []string{}
		for _, f := range k.Fields {
			cols = append(cols, warehouse.QuoteIdent(f.Name))
			ref := "j->>" + warehouse.QuoteString(f.Name)
			switch f.Type {
			case canonical.TextList:
				exprs = append(exprs, fmt.Sprintf("CAST(j->%s AS VARCHAR[])", warehouse.QuoteString(f.Name)))
			case canonical.JSON:
				exprs = append(exprs, "j->"+warehouse.QuoteString(f.Name))
			default:
				exprs = append(exprs, fmt.Sprintf("CAST(%s AS %s)", ref, f.Type.SQL()))
			}
		}
		q := fmt.Sprintf(`INSERT INTO %s (%s, extra, source) SELECT %s, j, 'file' FROM read_ndjson_objects(%s) AS r(j) WHERE j->>'kind' = %s`,
			k.Table, strings.Join(cols, ", "), strings.Join(exprs, ", "), warehouse.QuoteString(path), warehouse.QuoteString(k.Name))
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("load %s into %s: %v", path, k.Table, err)
		}
	}
}
