// Package metrics computes the DORA metrics and MTTR from the marts built by
// package transform, per service, team, department or organisation, for any
// window and per week, month or quarter, with a tier for each metric from the
// configured benchmark set.
//
// The metric SQL lives in the transform, as table macros created beside the
// marts (transform/models/metrics: metric_rows, metric_rows_many,
// metric_velocity, explain_lead_time …), so it is tested with the models
// and can be run by hand: shiplog query "from metric_rows('team', 'month',
// timestamptz '2025-01-01', timestamptz '2025-04-01')". This package only
// chooses the values: each statement in sql/ calls one macro with a
// filter's level, period unit, window and scope, and Go adds the tiers.
//
// All time arithmetic is in UTC: periods start at UTC midnight (weeks on
// Monday), a deployment counts in the period of its finished_at, and To is
// exclusive.
package metrics

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Filter selects what Compute covers.
type Filter struct {
	// Services and Teams restrict the services considered (empty = all).
	Services, Teams []string
	// From and To bound the window; zero means unbounded. To is exclusive.
	From, To time.Time
	// By splits the window into periods: "", week, month or quarter.
	By string
	// Level is the row key: service (default), team, department, org or
	// environment (one row per production environment).
	Level string
	// Environments restrict the DORA metrics (Compute) to the deployments
	// of these production environments (empty = all); names are keys.
	// The views and Explain do not take them.
	Environments []string
}

// Columns are Compute's columns after the level key, in order.
var Columns = []string{
	"period_start", "period_end", "deployments", "deployments_per_day",
	"deployment_days_per_week", "deploy_interval_median_hours",
	"lead_time_median_hours", "lead_time_p75_hours", "lead_time_p90_hours",
	"lead_time_changes", "lead_time_excluded", "change_failure_rate",
	"failed_deployments", "recovery_median_hours", "recovery_p75_hours",
	"recovery_p90_hours", "unrecovered_failures", "rework_rate",
	"unplanned_deployments", "mttr_median_hours", "mtta_median_hours",
	"incidents", "lead_time_unknown_reason", "failure_unknown_reason",
	"deployment_frequency_tier", "lead_time_tier",
	"change_failure_rate_tier", "recovery_time_tier", "rework_rate_tier",
}

// OrgKey is the level key of the organisation-wide row.
const OrgKey = "all"

// Check validates the filter's By and Level and window.
func (f Filter) Check() error {
	switch f.By {
	case "", "week", "month", "quarter":
	default:
		return fmt.Errorf("--by must be week, month or quarter, not %q", f.By)
	}
	switch f.Level {
	case "", "service", "team", "department", "org", "environment":
	default:
		return fmt.Errorf("--level must be service, team, department, org or environment, not %q", f.Level)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return fmt.Errorf("--from (%s) must be before --to (%s)", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	return nil
}

func (f Filter) level() string {
	if f.Level == "" {
		return "service"
	}
	return f.Level
}

// scripts are the statements in sql/, by file name without .sql, each a
// call of a metric macro of the transform (transform/models/metrics).
//
//go:embed sql/*.sql
var sqlFS embed.FS

var scripts = func() map[string]*sqlrun.Script {
	out := map[string]*sqlrun.Script{}
	names, err := fs.Glob(sqlFS, "sql/*.sql")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		src, err := sqlFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		sc, err := sqlrun.Parse("metrics/"+n, src)
		if err != nil {
			panic(err)
		}
		out[strings.TrimSuffix(path.Base(n), ".sql")] = sc
	}
	return out
}()

// run runs the statement in sql/NAME.sql with vals and returns its rows,
// driver values normalised. A failure on a warehouse without the metric
// macros is ErrNoMarts.
func run(ctx context.Context, db *warehouse.DB, name string, vals map[string]any) (*output.Table, error) {
	t, err := query(ctx, db, name, vals)
	if err != nil {
		return nil, explainFailure(ctx, db, err)
	}
	return t, nil
}

// query is run without the explanation of failures.
func query(ctx context.Context, db *warehouse.DB, name string, vals map[string]any) (*output.Table, error) {
	sc, ok := scripts[name]
	if !ok {
		return nil, fmt.Errorf("metrics: no statement %s", name)
	}
	v, err := sc.Args(vals)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	rows, err := sc.Query(ctx, db, v)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	t, err := output.FromRows(rows)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, r := range t.Rows {
		for i := range r {
			r[i] = normalise(r[i])
		}
	}
	return t, nil
}

// scope are the values of a filter every statement takes: the window (nil
// for an open end) and the services and teams.
func (f Filter) scope() map[string]any {
	return map[string]any{"from": timeArg(f.From), "to": timeArg(f.To), "services": list(f.Services), "teams": list(f.Teams)}
}

// vals are scope with the level and the period unit (By).
func (f Filter) vals() map[string]any {
	v := f.scope()
	v["level"], v["unit"] = f.level(), f.By
	return v
}

func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// Compute returns one row per level key and period with the metrics and
// their tiers (columns: the level name, then Columns). Values that are
// undefined for a row (no deployments → no rate) are nil.
func Compute(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	ts, err := ComputeMany(ctx, db, cfg, []Filter{f})
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// normalise turns driver values into plain Go values: NaN to nil, integer
// types to int64, numeric ratios to float64.
func normalise(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		return float64(x)
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case int:
		return int64(x)
	}
	return v
}

func durHours(ds []config.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.D().Hours()
	}
	return out
}

// Tier names, best first.
var tierNames = []string{"elite", "high", "medium", "low"}

// tierUpper ranks a value against inclusive upper bounds (elite, high,
// medium); beyond the last is low. No bounds or no value → nil.
func tierUpper(bounds []float64, v func(string) (float64, bool), col string) any {
	x, ok := v(col)
	if !ok || len(bounds) == 0 {
		return nil
	}
	for i, b := range bounds {
		if x <= b && i < len(tierNames)-1 {
			return tierNames[i]
		}
	}
	return tierNames[min(len(bounds), len(tierNames)-1)]
}

// tierDeployFrequency ranks deployment days in the median week against
// lower bounds (elite, high, medium). Bounds below one day a week (monthly
// and rarer cadences) are compared with the mean days per week, since the
// median week of a monthly cadence is empty. No deployments → low; an empty
// window → nil.
func tierDeployFrequency(bounds []float64, v func(string) (float64, bool), meanDays float64, deployments int64) any {
	median, ok := v("deployment_days_per_week")
	if !ok || len(bounds) == 0 {
		return nil
	}
	for i, b := range bounds {
		if i >= len(tierNames)-1 {
			break
		}
		x := median
		if b < 1 {
			x = meanDays
		}
		if x >= b && (deployments > 0 || b <= 0) {
			return tierNames[i]
		}
	}
	return tierNames[min(len(bounds), len(tierNames)-1)]
}
