// Package metrics computes the DORA metrics and MTTR from the marts built by
// package transform, per service, team, department or organisation, for any
// window and per week, month or quarter, with a tier for each metric from the
// configured benchmark set.
//
// All time arithmetic is in UTC: periods start at UTC midnight (weeks on
// Monday), a deployment counts in the period of its finished_at, and To is
// exclusive.
package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
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
	// Level is the row key: service (default), team, department or org.
	Level string
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
	"incidents", "deployment_frequency_tier", "lead_time_tier",
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
	case "", "service", "team", "department", "org":
	default:
		return fmt.Errorf("--level must be service, team, department or org, not %q", f.Level)
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

// keyExpr is the SQL for the level key over dim_services columns.
func (f Filter) keyExpr() string {
	switch f.level() {
	case "team":
		return "team"
	case "department":
		return "coalesce(department, '(none)')"
	case "org":
		return warehouse.QuoteString(OrgKey)
	}
	return "service"
}

func listJSON(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// scope is the CTE prefix shared by Compute and the views: the services in
// scope with their level key ($1 services, $2 teams as JSON lists).
func (f Filter) scope() string {
	return fmt.Sprintf(`
svc as (
    select service, team, department, %s as key
    from dim_services
    where (json_array_length($1::JSON) = 0 or list_contains(list_transform(json_transform($1::JSON, '["VARCHAR"]'), x -> lower(trim(x))), service))
      and (json_array_length($2::JSON) = 0 or list_contains(list_transform(json_transform($2::JSON, '["VARCHAR"]'), x -> lower(trim(x))), team))
)`, f.keyExpr())
}

// args are the positional parameters of scope and window: $1 services,
// $2 teams, $3 from, $4 to.
func (f Filter) args() []any {
	return []any{listJSON(f.Services), listJSON(f.Teams), timeArg(f.From), timeArg(f.To)}
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

// within returns " and col >= FROM and col < TO" with the bounds as
// literals, so that DuckDB can skip row groups by their min/max (the marts
// are written in time order); "" when unbounded.
func (f Filter) within(col string) string {
	var b strings.Builder
	if !f.From.IsZero() {
		fmt.Fprintf(&b, " and %s >= TIMESTAMPTZ '%s'", col, f.From.UTC().Format("2006-01-02 15:04:05.999999+00"))
	}
	if !f.To.IsZero() {
		fmt.Fprintf(&b, " and %s < TIMESTAMPTZ '%s'", col, f.To.UTC().Format("2006-01-02 15:04:05.999999+00"))
	}
	return b.String()
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
