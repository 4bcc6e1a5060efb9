package marts

import (
	"context"
	"errors"
	"fmt"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// ErrMissing reports a warehouse whose marts were never built: the readers
// of the marts (audit, gate, drift, calendar) say this instead of failing
// on the first catalog error.
var ErrMissing = errors.New("the warehouse has no marts yet: run `shiplog transform` first")

// Require returns ErrMissing (wrapped, naming the first missing one) unless
// every named mart exists in db as a table or a view.
func Require(ctx context.Context, db *warehouse.DB, names ...string) error {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT name FROM (
		SELECT table_name AS name FROM duckdb_tables() WHERE schema_name = 'main'
		UNION ALL
		SELECT view_name FROM duckdb_views() WHERE schema_name = 'main'
	) WHERE list_contains(?::VARCHAR[], name)`, names)
	if err != nil {
		return err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		have[n] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		if !have[n] {
			return fmt.Errorf("%w (%s is missing)", ErrMissing, n)
		}
	}
	return nil
}
