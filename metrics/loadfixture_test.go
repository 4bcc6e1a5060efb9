package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// loadFixture inserts canonical JSON Lines (mixed kinds, a "kind" member on
// each line) into the canonical tables with DuckDB alone: every field is
// cast to its canonical type (times with offsets become UTC instants) and
// the whole record is kept as extra. It stands in for the canonical file
// loader in these tests.
func loadFixture(t *testing.T, db *warehouse.DB, path string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range canonical.Kinds {
		cols := []string{"source"}
		exprs := []string{"'fixture'"}
		for _, f := range k.Fields {
			if f.Name == "extra" || f.Name == "source" {
				continue
			}
			var e string
			switch f.Type {
			case canonical.TextList:
				e = fmt.Sprintf(`json_transform(json -> '%s', '["VARCHAR"]')`, f.Name)
			case canonical.JSON:
				e = fmt.Sprintf(`json -> '%s'`, f.Name)
			default:
				e = fmt.Sprintf(`cast(json ->> '%s' as %s)`, f.Name, f.Type.SQL())
			}
			cols = append(cols, warehouse.QuoteIdent(f.Name))
			exprs = append(exprs, e)
		}
		cols = append(cols, "extra")
		exprs = append(exprs, "json")
		q := fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM read_json_objects(%s, format = 'newline_delimited') WHERE json ->> 'kind' = %s`,
			warehouse.QuoteIdent(k.Table), strings.Join(cols, ", "), strings.Join(exprs, ", "),
			warehouse.QuoteString(path), warehouse.QuoteString(k.Name))
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("load %s (%s): %v", path, k.Name, err)
		}
	}
}
