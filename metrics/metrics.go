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
    where (json_array_length($1::JSON) = 0 or list_contains(json_transform($1::JSON, '["VARCHAR"]'), service))
      and (json_array_length($2::JSON) = 0 or list_contains(json_transform($2::JSON, '["VARCHAR"]'), team))
)`, f.keyExpr())
}

// args are the positional parameters of scope and window: $1 services,
// $2 teams, $3 from, $4 to.
func (f Filter) args() []any {
	return []any{listJSON(f.Services), listJSON(f.Teams), timeArg(f.From), timeArg(f.To)}
}

const computeSQL = `
with %s,

dep_all as (
    select d.deployment_id, d.finished_at, d.is_failed, d.is_unplanned, s.key
    from fct_deployments d
    join svc s on s.service = d.service
    where d.is_production and d.status = 'success' %[9]s
),

bounds as (
    select
        coalesce($3::TIMESTAMPTZ, timezone('UTC', date_trunc('day', timezone('UTC', min(finished_at))))) as lo,
        coalesce($4::TIMESTAMPTZ, timezone('UTC', date_trunc('day', timezone('UTC', max(finished_at))) + interval 1 day)) as hi
    from dep_all
),

periods as (
    select
        greatest(timezone('UTC', p), b.lo) as period_start,
        least(timezone('UTC', p + %[4]s), b.hi) as period_end
    from bounds b,
         unnest(generate_series(date_trunc('%[2]s', timezone('UTC', b.lo)),
                                timezone('UTC', b.hi) - interval 1 microsecond,
                                %[4]s)) as t(p)
    where %[3]s
    union all
    select b.lo, b.hi from bounds b where not %[3]s and b.lo < b.hi
),

keys as (
    select distinct key from svc
),

grid as (
    select k.key, p.period_start, p.period_end from keys k cross join periods p
),

dep as (
    select d.*, g.period_start
    from dep_all d
    join grid g on g.key = d.key and d.finished_at >= g.period_start and d.finished_at < g.period_end
),

dep_stats as (
    select
        key,
        period_start,
        count(*)                                   as deployments,
        count(*) filter (where is_failed)          as failed_deployments,
        count(*) filter (where is_unplanned)       as unplanned_deployments
    from dep
    group by all
),

intervals as (
    select d.key, g.period_start, d.gap_hours
    from (
        select key, finished_at,
               (epoch_us(finished_at) - lag(epoch_us(finished_at)) over (partition by key order by finished_at, deployment_id)) / 3600e6 as gap_hours
        from dep_all
    ) d
    join grid g on g.key = d.key and d.finished_at >= g.period_start and d.finished_at < g.period_end
    where d.gap_hours is not null
),

interval_stats as (
    select key, period_start, quantile_cont(gap_hours, 0.5) as deploy_interval_median_hours
    from intervals
    group by all
),

weeks as (
    select g.key, g.period_start, g.period_end, timezone('UTC', w) as week_start
    from grid g,
         unnest(generate_series(date_trunc('week', timezone('UTC', g.period_start)),
                                timezone('UTC', g.period_end) - interval 1 microsecond,
                                interval 7 day)) as t(w)
),

deploy_days as (
    select distinct key, period_start, date_trunc('day', timezone('UTC', finished_at)) as day
    from dep
),

week_days as (
    select w.key, w.period_start, count(d.day) as days
    from weeks w
    left join deploy_days d
        on d.key = w.key and d.period_start = w.period_start
       and timezone('UTC', d.day) >= w.week_start and timezone('UTC', d.day) < w.week_start + interval 7 day
    group by w.key, w.period_start, w.week_start
),

week_stats as (
    select key, period_start,
           quantile_cont(days, 0.5) as deployment_days_per_week,
           avg(days)                as deployment_days_per_week_mean
    from week_days
    group by all
),

lead as (
    select c.lead_time_hours, c.excluded_reason, g.key, g.period_start
    from fct_changes c
    join svc s on s.service = c.service
    join grid g on g.key = s.key and c.deployed_at >= g.period_start and c.deployed_at < g.period_end
    where c.deployment_id is not null %[5]s
),

lead_stats as (
    select
        key,
        period_start,
        quantile_cont(lead_time_hours, 0.5) filter (where excluded_reason is null) as lead_time_median_hours,
        quantile_cont(lead_time_hours, 0.75) filter (where excluded_reason is null) as lead_time_p75_hours,
        quantile_cont(lead_time_hours, 0.9) filter (where excluded_reason is null) as lead_time_p90_hours,
        count(*) filter (where excluded_reason is null)     as lead_time_changes,
        count(*) filter (where excluded_reason is not null) as lead_time_excluded
    from lead
    group by all
),

recovery_stats as (
    select
        g.key,
        g.period_start,
        quantile_cont(f.recovery_hours, 0.5) filter (where f.recovered_at is not null) as recovery_median_hours,
        quantile_cont(f.recovery_hours, 0.75) filter (where f.recovered_at is not null) as recovery_p75_hours,
        quantile_cont(f.recovery_hours, 0.9) filter (where f.recovered_at is not null) as recovery_p90_hours,
        count(*) filter (where f.recovered_at is null) as unrecovered_failures
    from fct_failures f
    join svc s on s.service = f.service
    join grid g on g.key = s.key and f.finished_at >= g.period_start and f.finished_at < g.period_end
    where true %[6]s
    group by all
),

mttr_stats as (
    select
        g.key,
        g.period_start,
        quantile_cont(i.resolve_hours, 0.5) as mttr_median_hours,
        quantile_cont(i.ack_hours, 0.5)     as mtta_median_hours
    from fct_incidents i
    join svc s on s.service = i.service
    join grid g on g.key = s.key and i.resolved_at >= g.period_start and i.resolved_at < g.period_end
    where not i.is_false_positive %[7]s
    group by all
),

incident_stats as (
    select g.key, g.period_start, count(*) as incidents
    from fct_incidents i
    join svc s on s.service = i.service
    join grid g on g.key = s.key and i.opened_at >= g.period_start and i.opened_at < g.period_end
    where not i.is_false_positive %[8]s
    group by all
)

select
    g.key,
    g.period_start,
    g.period_end,
    coalesce(d.deployments, 0) as deployments,
    coalesce(d.deployments, 0) / ((epoch_us(g.period_end) - epoch_us(g.period_start)) / 86400e6) as deployments_per_day,
    w.deployment_days_per_week,
    i.deploy_interval_median_hours,
    l.lead_time_median_hours,
    l.lead_time_p75_hours,
    l.lead_time_p90_hours,
    coalesce(l.lead_time_changes, 0) as lead_time_changes,
    coalesce(l.lead_time_excluded, 0) as lead_time_excluded,
    d.failed_deployments / d.deployments as change_failure_rate,
    coalesce(d.failed_deployments, 0) as failed_deployments,
    r.recovery_median_hours,
    r.recovery_p75_hours,
    r.recovery_p90_hours,
    coalesce(r.unrecovered_failures, 0) as unrecovered_failures,
    d.unplanned_deployments / d.deployments as rework_rate,
    coalesce(d.unplanned_deployments, 0) as unplanned_deployments,
    m.mttr_median_hours,
    m.mtta_median_hours,
    coalesce(n.incidents, 0) as incidents,
    w.deployment_days_per_week_mean
from grid g
left join dep_stats d      on d.key = g.key and d.period_start = g.period_start
left join interval_stats i on i.key = g.key and i.period_start = g.period_start
left join week_stats w     on w.key = g.key and w.period_start = g.period_start
left join lead_stats l     on l.key = g.key and l.period_start = g.period_start
left join recovery_stats r on r.key = g.key and r.period_start = g.period_start
left join mttr_stats m     on m.key = g.key and m.period_start = g.period_start
left join incident_stats n on n.key = g.key and n.period_start = g.period_start
order by g.key, g.period_start
`

// Compute returns one row per level key and period with the metrics and
// their tiers (columns: the level name, then Columns). Values that are
// undefined for a row (no deployments → no rate) are nil.
func Compute(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = config.Default()
	}
	set, err := cfg.BenchmarkSet()
	if err != nil {
		return nil, err
	}
	unit, split := f.By, "true"
	if unit == "" {
		unit, split = "day", "false"
	}
	q := fmt.Sprintf(computeSQL, f.scope(), unit, split, step(unit),
		f.within("c.deployed_at"), f.within("f.finished_at"), f.within("i.resolved_at"), f.within("i.opened_at"),
		Filter{To: f.To}.within("d.finished_at"))
	rows, err := db.QueryContext(ctx, q, f.args()...)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w (run `shiplog transform` first?)", err)
	}
	raw, err := output.FromRows(rows)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	t := &output.Table{Columns: append([]string{f.level()}, Columns...)}
	for _, r := range raw.Rows {
		// r: key, period_start, period_end, 21 metric values, mean days per week
		row := make([]any, 0, len(t.Columns))
		row = append(row, r[:len(r)-1]...)
		for i := range row {
			row[i] = normalise(row[i])
		}
		v := func(col string) (float64, bool) {
			for i, c := range t.Columns {
				if c == col {
					x, ok := row[i].(float64)
					return x, ok
				}
			}
			return 0, false
		}
		deploys, _ := row[3].(int64)
		meanDays, _ := normalise(r[len(r)-1]).(float64)
		row = append(row,
			tierDeployFrequency(set.DeploymentDaysPerWeek, v, meanDays, deploys),
			tierUpper(durHours(set.LeadTime), v, "lead_time_median_hours"),
			tierUpper(set.ChangeFailureRate, v, "change_failure_rate"),
			tierUpper(durHours(set.RecoveryTime), v, "recovery_median_hours"),
			tierUpper(set.ReworkRate, v, "rework_rate"),
		)
		t.Rows = append(t.Rows, row)
	}
	return t, nil
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

// step is the SQL interval of one period.
func step(unit string) string {
	switch unit {
	case "week":
		return "interval 7 day"
	case "month":
		return "interval 1 month"
	case "quarter":
		return "interval 3 month"
	}
	return "interval 1 day"
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
