package metrics

import (
	"context"
	"errors"
	"fmt"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// ErrNoMarts reports a warehouse whose marts were never built.
var ErrNoMarts = errors.New("the warehouse has no marts yet: run `shiplog transform` first")

// marts are the tables, views and macros the metrics read.
var marts = []string{"dim_services", "fct_adoption", "fct_changes", "fct_deployment_changes",
	"fct_deployments", "fct_failures", "fct_incidents", "fct_support_impact",
	"metric_rows_many", "metric_bounds", "metric_velocity", "explain_lead_time"}

// requireMarts says plainly when the marts are missing (or were built by a
// version without the metric macros), instead of letting the first query
// fail on a catalog error.
func requireMarts(ctx context.Context, db *warehouse.DB) error {
	t, err := run(ctx, db, "marts", map[string]any{"names": marts})
	if err != nil {
		return err
	}
	if n, _ := t.Rows[0][0].(int64); n < int64(len(marts)) {
		return fmt.Errorf("metrics: %w", ErrNoMarts)
	}
	return nil
}
