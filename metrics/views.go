package metrics

import (
	"context"
	"fmt"
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

// period returns the SQL for the period start of a time column: the UTC
// start of its week, month or quarter, or the window's start without By.
func (f Filter) period(col string) string {
	if f.By == "" {
		return "$3::TIMESTAMPTZ"
	}
	return fmt.Sprintf("timezone('UTC', date_trunc('%s', timezone('UTC', %s)))", f.By, col)
}

// window is the SQL condition that col lies in [From, To).
func window(col string) string {
	return fmt.Sprintf("($3::TIMESTAMPTZ is null or %[1]s >= $3::TIMESTAMPTZ) and ($4::TIMESTAMPTZ is null or %[1]s < $4::TIMESTAMPTZ)", col)
}

// View runs one of Views for the filter.
func View(ctx context.Context, db *warehouse.DB, name string, f Filter) (*output.Table, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if err := requireMarts(ctx, db); err != nil {
		return nil, err
	}
	var q string
	level := f.level()
	switch name {
	case "velocity":
		q = fmt.Sprintf(`
with %[1]s,
events as (
    select s.key, %[2]s as period_start, 1 as shipped, 0 as deployed, 0 as merged, c.author
    from fct_changes c join svc s on s.service = c.deployed_service
    where c.deployment_id is not null and %[3]s
    union all
    select s.key, %[4]s, 0, 1, 0, null
    from fct_deployments d join svc s on s.service = d.service
    where d.is_production and d.status = 'success' and %[5]s
    union all
    select s.key, %[6]s, 0, 0, 1, c.author
    from fct_changes c join svc s on s.service = c.service
    where c.merged_at is not null and c.opened_at is not null and %[7]s
)
select key as %[8]s, period_start,
       sum(shipped) as changes_shipped, sum(deployed) as deployments, sum(merged) as prs_merged,
       count(distinct author) as authors
from events group by all order by 1, 2`,
			f.scope(), f.period("c.deployed_at"), window("c.deployed_at"),
			f.period("d.finished_at"), window("d.finished_at"),
			f.period("c.merged_at"), window("c.merged_at"), warehouse.QuoteIdent(level))
	case "velocity-authors":
		q = fmt.Sprintf(`
with %[1]s,
events as (
    select c.author, s.key, %[2]s as period_start, 1 as shipped, 0 as merged
    from fct_changes c join svc s on s.service = c.deployed_service
    where c.deployment_id is not null and %[3]s
    union all
    select c.author, s.key, %[4]s, 0, 1
    from fct_changes c join svc s on s.service = c.service
    where c.merged_at is not null and c.opened_at is not null and %[5]s
)
select coalesce(author, '(unknown)') as author, string_agg(distinct key, ',' order by key) as %[6]s, period_start,
       sum(shipped) as changes_shipped, sum(merged) as prs_merged
from events group by author, period_start order by 1, 3`,
			f.scope(), f.period("c.deployed_at"), window("c.deployed_at"),
			f.period("c.merged_at"), window("c.merged_at"), warehouse.QuoteIdent(level+"s"))
	case "mttr":
		q = fmt.Sprintf(`
with %[1]s
select s.key as %[4]s, %[2]s as period_start, i.severity,
       count(*) as incidents_resolved,
       quantile_cont(i.resolve_hours, 0.5) as mttr_median_hours,
       quantile_cont(i.resolve_hours, 0.75) as mttr_p75_hours,
       quantile_cont(i.resolve_hours, 0.9) as mttr_p90_hours,
       quantile_cont(i.ack_hours, 0.5) as mtta_median_hours
from fct_incidents i join svc s on s.service = i.service
where not i.is_false_positive and i.resolved_at is not null and %[3]s
group by all order by 1, 2, 3`,
			f.scope(), f.period("i.resolved_at"), window("i.resolved_at"), warehouse.QuoteIdent(level))
	case "adoption":
		q = fmt.Sprintf(`
with %[1]s
select a.* from fct_adoption a join svc s on s.service = a.service
where %[2]s order by a.released_at, a.service, a.feature`, f.scope(), window("a.released_at"))
	case "support":
		q = fmt.Sprintf(`
with %[1]s
select a.* from fct_support_impact a join svc s on s.service = a.service
where %[2]s order by a.finished_at, a.service`, f.scope(), window("a.finished_at"))
	default:
		return nil, fmt.Errorf("unknown view %q (one of dora, %s)", name, strings.Join(ViewNames(), ", "))
	}
	return query(ctx, db, q, f)
}

func query(ctx context.Context, db *warehouse.DB, q string, f Filter) (*output.Table, error) {
	rows, err := db.QueryContext(ctx, q, f.args()...)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	t, err := output.FromRows(rows)
	if err != nil {
		return nil, err
	}
	for _, r := range t.Rows {
		for i := range r {
			r[i] = normalise(r[i])
		}
	}
	return t, nil
}

// ExplainMetrics are the metric names Explain accepts.
var ExplainMetrics = []string{"lead-time", "change-failure-rate", "recovery-time", "deployment-frequency", "rework-rate"}

// Explain lists the rows behind a metric for the filter's services and
// window (By and Level are ignored).
func Explain(ctx context.Context, db *warehouse.DB, metric string, f Filter) (*output.Table, error) {
	f.By, f.Level = "", ""
	if err := f.Check(); err != nil {
		return nil, err
	}
	if err := requireMarts(ctx, db); err != nil {
		return nil, err
	}
	var q string
	switch metric {
	case "lead-time":
		// Changes deployed in the window: included ones, then those left out
		// with their reason.
		q = fmt.Sprintf(`
with %[1]s
select c.change_id, c.service, c.team, c.author, c.deployment_id, c.deployed_at, c.link_rule,
       c.first_commit_at, c.lead_time_hours, c.coding_hours, c.pickup_hours, c.review_hours,
       c.deploy_hours, c.excluded_reason, c.stage_anomaly, c.deployed_service
from fct_changes c join svc s on s.service = c.deployed_service
where c.deployment_id is not null and %[2]s
order by c.excluded_reason nulls first, c.deployed_at, c.change_id`, f.scope(), window("c.deployed_at"))
	case "change-failure-rate":
		q = fmt.Sprintf(`
with %[1]s
select d.deployment_id, d.service, d.team, d.finished_at, d.version, d.is_failed, d.failure_reason,
       f.incident_ids, f.restored_by_deployment
from fct_deployments d join svc s on s.service = d.service
left join fct_failures f on f.deployment_id = d.deployment_id
where d.is_production and d.status = 'success' and %[2]s
order by d.is_failed desc, d.finished_at, d.deployment_id`, f.scope(), window("d.finished_at"))
	case "recovery-time":
		q = fmt.Sprintf(`
with %[1]s
select f.deployment_id, f.service, f.team, f.finished_at, f.reason, f.incident_ids,
       f.restored_by_deployment, f.recovered_at, f.recovery_hours,
       f.recovered_at is null as unrecovered
from fct_failures f join svc s on s.service = f.service
where %[2]s
order by f.finished_at, f.deployment_id`, f.scope(), window("f.finished_at"))
	case "deployment-frequency":
		q = fmt.Sprintf(`
with %[1]s
select d.deployment_id, d.service, d.team, d.finished_at,
       cast(timezone('UTC', d.finished_at) as date) as day,
       d.version, d.is_rollback, d.is_hotfix,
       (epoch_us(d.finished_at) - lag(epoch_us(d.finished_at)) over (partition by d.service order by d.finished_at, d.deployment_id)) / 3600e6 as hours_since_previous
from fct_deployments d join svc s on s.service = d.service
where d.is_production and d.status = 'success' and %[2]s
order by d.finished_at, d.deployment_id`, f.scope(), window("d.finished_at"))
	case "rework-rate":
		q = fmt.Sprintf(`
with %[1]s
select d.deployment_id, d.service, d.team, d.finished_at, d.version, d.is_unplanned,
       d.unplanned_reason, d.is_rollback, d.rollback_of, d.is_hotfix, d.hotfix_of
from fct_deployments d join svc s on s.service = d.service
where d.is_production and d.status = 'success' and %[2]s
order by d.is_unplanned desc, d.finished_at, d.deployment_id`, f.scope(), window("d.finished_at"))
	default:
		return nil, fmt.Errorf("unknown metric %q (one of %s)", metric, strings.Join(ExplainMetrics, ", "))
	}
	return query(ctx, db, q, f)
}
