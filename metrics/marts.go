package metrics

import (
	"context"
	"errors"
	"fmt"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// ErrNoMarts reports a warehouse whose marts were never built.
var ErrNoMarts = errors.New("the warehouse has no marts yet: run `shiplog transform` first")

// marts are the tables and views the metrics read.
var marts = []string{"dim_services", "fct_adoption", "fct_changes", "fct_deployment_changes",
	"fct_deployments", "fct_failures", "fct_incidents", "fct_support_impact"}

// requireMarts says plainly when the marts are missing, instead of letting
// the first query fail on a catalog error.
func requireMarts(ctx context.Context, db *warehouse.DB) error {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(DISTINCT name) FROM (
		SELECT table_name AS name FROM duckdb_tables() WHERE schema_name = 'main'
		UNION ALL
		SELECT view_name FROM duckdb_views() WHERE schema_name = 'main'
	) WHERE list_contains(?::VARCHAR[], name)`, marts).Scan(&n)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if n < len(marts) {
		return fmt.Errorf("metrics: %w", ErrNoMarts)
	}
	return nil
}
