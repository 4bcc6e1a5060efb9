package metrics

import (
	"context"
	"errors"
	"fmt"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// ErrNoMarts reports a warehouse whose marts were never built.
var ErrNoMarts = errors.New("the warehouse has no marts yet: run `shiplog transform` first")

// marts are the tables and views the metrics read; macros the metric
// macros they call (transform/models/metrics).
var (
	marts = []string{"dim_services", "dim_service_sources", "fct_adoption", "fct_changes", "fct_deployment_changes",
		"fct_deployments", "fct_failures", "fct_incidents", "fct_support_impact"}
	macros = []string{"metric_rows_many", "metric_bounds", "metric_velocity", "metric_velocity_authors",
		"metric_mttr", "metric_adoption", "metric_support", "explain_lead_time", "explain_change_failure_rate",
		"explain_recovery_time", "explain_deployment_frequency", "explain_rework_rate"}
)

// requireMarts says plainly when the marts are missing, instead of letting
// the first query fail on a catalog error.
func requireMarts(ctx context.Context, db *warehouse.DB) error {
	t, err := query(ctx, db, "marts", map[string]any{"names": marts})
	if err != nil {
		return err
	}
	if n, _ := t.Rows[0][0].(int64); n < int64(len(marts)) {
		return fmt.Errorf("metrics: %w", ErrNoMarts)
	}
	return nil
}

// explainFailure turns the failure of a metric call into ErrNoMarts when
// the warehouse lacks the metric macros (its marts were built by a shiplog
// without them); the check runs only once a call has failed.
func explainFailure(ctx context.Context, db *warehouse.DB, callErr error) error {
	t, err := query(ctx, db, "macros", map[string]any{"names": macros})
	if err == nil {
		if n, _ := t.Rows[0][0].(int64); n < int64(len(macros)) {
			return fmt.Errorf("metrics: %w", ErrNoMarts)
		}
	}
	return callErr
}
