package drift

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// loadFixture reads canonical JSONL (mixed kinds) into the canonical tables
// with DuckDB's read_json_objects and explicit casts, for tests only.
func loadFixture(t *testing.T, db *warehouse.DB, path string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range canonical.Kinds {
		var cols, exprs []string
		for _, f := range k.Fields {
			cols = append(cols, warehouse.QuoteIdent(f.Name))
			var e string
			switch f.Type {
			case canonical.TextList:
				e = fmt.Sprintf("CAST(j->'%s' AS VARCHAR[])", f.Name)
			case canonical.JSON:
				e = fmt.Sprintf("j->'%s'", f.Name)
			default:
				e = fmt.Sprintf("CAST(j->>'%s' AS %s)", f.Name, f.Type.SQL())
			}
			exprs = append(exprs, e)
		}
		q := fmt.Sprintf(`INSERT INTO %s (%s, source) SELECT %s, 'file'
			FROM (SELECT json AS j FROM read_json_objects(%s, format = 'newline_delimited')) WHERE j->>'kind' = %s`,
			k.Table, strings.Join(cols, ", "), strings.Join(exprs, ", "), warehouse.QuoteString(path), warehouse.QuoteString(k.Name))
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("load %s (%s): %v", path, k.Name, err)
		}
	}
}
