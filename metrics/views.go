package metrics

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Views are the secondary outputs of `shiplog metrics --view`, beside the
// default "dora" (Compute).
var Views = map[string]string{
	"velocity":         "changes shipped, deployments and pull requests merged per level key and period",
	"velocity-authors": "changes shipped and pull requests merged per author and period",
	"mttr":             "incidents resolved, MTTR and time to acknowledge per level key, period and severity",
	"adoption":         "feature adoption at day 1, 7 and 30 after the release that shipped it",
	"support":          "support tickets after each release against the service's baseline rate",
}

// ViewNames lists the views in order.
func ViewNames() []string {
	names := make([]string, 0, len(Views))
	for n := range Views {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// View runs one of Views for the filter (metric_velocity,
// metric_velocity_authors, metric_mttr, metric_adoption, metric_support).
// The key column is named after the level ("team"; "teams" for the keys of
// velocity-authors).
func View(ctx context.Context, db *warehouse.DB, name string, f Filter) (*output.Table, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if f.Level == "environment" || len(f.Environments) > 0 {
		return nil, fmt.Errorf("--view %s is not split by environment: --level environment and --environment apply to the DORA metrics only", name)
	}
	if _, ok := Views[name]; !ok {
		return nil, fmt.Errorf("unknown view %q (one of dora, %s)", name, strings.Join(ViewNames(), ", "))
	}
	if err := requireMarts(ctx, db); err != nil {
		return nil, err
	}
	vals := f.vals()
	if name == "adoption" || name == "support" {
		vals = f.scope()
	}
	t, err := run(ctx, db, "view_"+strings.ReplaceAll(name, "-", "_"), vals)
	if err != nil {
		return nil, err
	}
	for i, c := range t.Columns {
		switch c {
		case "key":
			t.Columns[i] = f.level()
		case "keys":
			t.Columns[i] = f.level() + "s"
		}
	}
	return t, nil
}

// ExplainMetrics are the metric names Explain accepts.
var ExplainMetrics = []string{"lead-time", "change-failure-rate", "recovery-time", "deployment-frequency", "rework-rate"}

// Explain lists the rows behind a metric for the filter's services and
// window (By and Level are ignored): the rows of explain_lead_time,
// explain_change_failure_rate … for that scope and window.
func Explain(ctx context.Context, db *warehouse.DB, metric string, f Filter) (*output.Table, error) {
	f.By, f.Level = "", ""
	if err := f.Check(); err != nil {
		return nil, err
	}
	if !slices.Contains(ExplainMetrics, metric) {
		return nil, fmt.Errorf("unknown metric %q (one of %s)", metric, strings.Join(ExplainMetrics, ", "))
	}
	if err := requireMarts(ctx, db); err != nil {
		return nil, err
	}
	return run(ctx, db, "explain_"+strings.ReplaceAll(metric, "-", "_"), f.scope())
}
