package metrics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// ComputeMany answers several filters with one statement and returns one
// table per filter, in order, each the table Compute returns for it. The
// facts are read once for all of them, so a report that needs the same
// window at several levels, or the previous window as well, pays for one
// pass over fct_changes instead of one per filter. Medians and percentiles
// are still taken per filter, level key and period over the rows
// themselves: nothing is pre-aggregated.
func ComputeMany(ctx context.Context, db *warehouse.DB, cfg *config.Config, fs []Filter) ([]*output.Table, error) {
	for _, f := range fs {
		if err := f.Check(); err != nil {
			return nil, err
		}
	}
	if err := requireMarts(ctx, db); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = config.Default()
	}
	set, err := cfg.BenchmarkSet()
	if err != nil {
		return nil, err
	}
	out := make([]*output.Table, len(fs))
	var reqs []request
	for i, f := range fs {
		out[i] = &output.Table{Columns: append([]string{f.level()}, Columns...)}
		lo, hi, ok, err := bounds(ctx, db, f)
		if err != nil {
			return nil, err
		}
		if ok {
			reqs = append(reqs, request{id: i, f: f, lo: lo, hi: hi})
		}
	}
	if len(reqs) == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, manyQuery(reqs))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	raw, err := output.FromRows(rows)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, r := range raw.Rows {
		// r: request, key, period_start, period_end, 21 metric values, mean days per week
		id, _ := normalise(r[0]).(int64)
		t := out[id]
		row := make([]any, 0, len(t.Columns))
		row = append(row, r[1:len(r)-1]...)
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
	return out, nil
}

// request is one filter of ComputeMany with its window resolved.
type request struct {
	id     int
	f      Filter
	lo, hi time.Time
}

// bounds resolves a filter's window. An open end is taken from the
// production deployments in scope: From defaults to the UTC day of the
// first, To to the UTC day after the last (before To when To is set). ok is
// false when an open end has no deployment to take it from: the filter then
// has no rows.
func bounds(ctx context.Context, db *warehouse.DB, f Filter) (lo, hi time.Time, ok bool, err error) {
	if !f.From.IsZero() && !f.To.IsZero() {
		return f.From.UTC(), f.To.UTC(), true, nil
	}
	q := fmt.Sprintf(`
with %s
select
    coalesce($3::TIMESTAMPTZ, timezone('UTC', date_trunc('day', timezone('UTC', min(d.finished_at))))) as lo,
    coalesce($4::TIMESTAMPTZ, timezone('UTC', date_trunc('day', timezone('UTC', max(d.finished_at))) + interval 1 day)) as hi
from fct_deployments d
join svc s on s.service = d.service
where d.is_production and d.status = 'success' %s`, f.scope(), Filter{To: f.To}.within("d.finished_at"))
	var l, h *time.Time
	if err := db.QueryRowContext(ctx, q, f.args()...).Scan(&l, &h); err != nil {
		return lo, hi, false, fmt.Errorf("metrics: %w", err)
	}
	if l == nil || h == nil {
		return lo, hi, false, nil
	}
	return l.UTC(), h.UTC(), true, nil
}

func tsLit(t time.Time) string {
	return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05.999999+00") + "'"
}

// manyQuery is the statement of ComputeMany. Each request is a row of req
// (r, its level, period unit, window and scope); each service in scope of a
// request a row of svc with its level key. A fact joins the requests whose
// scope holds its service and whose window holds its time, and is counted
// in the period whose start (ps, microseconds since the epoch) is the UTC
// start of its week, month or quarter clipped to the window's start — or
// the window's start without a unit. Periods are named by that number, so
// facts meet the grid of periods on equality.
func manyQuery(reqs []request) string {
	var vals []string
	lo, hi := reqs[0].lo, reqs[0].hi
	for _, q := range reqs {
		vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s, %s, %s, %s)",
			q.id, warehouse.QuoteString(q.f.level()), warehouse.QuoteString(q.f.By), tsLit(q.lo), tsLit(q.hi),
			warehouse.QuoteString(listJSON(q.f.Services)), warehouse.QuoteString(listJSON(q.f.Teams))))
		if q.lo.Before(lo) {
			lo = q.lo
		}
		if q.hi.After(hi) {
			hi = q.hi
		}
	}
	// Literal outer bounds on every fact let DuckDB skip row groups by
	// their min/max.
	span := func(col string) string {
		return fmt.Sprintf("%[1]s >= %[2]s and %[1]s < %[3]s", col, tsLit(lo), tsLit(hi))
	}
	return fmt.Sprintf(manySQL, strings.Join(vals, ",\n    "),
		span("d.finished_at"), span("c.deployed_at"), span("f.finished_at"), span("i.resolved_at"), span("i.opened_at"),
		tsLit(hi))
}

// ps is the SQL of a fact's period start (see manyQuery) for time column
// col and request q.
func ps(col string) string {
	// Each unit is named as a constant: date_trunc reads a constant unit
	// once, a column's for every row.
	return fmt.Sprintf(`case q.unit when '' then epoch_us(q.lo)
        else greatest(epoch_us(case q.unit when 'week' then date_trunc('week', make_timestamp(epoch_us(%[1]s)))
                                           when 'month' then date_trunc('month', make_timestamp(epoch_us(%[1]s)))
                                           else date_trunc('quarter', make_timestamp(epoch_us(%[1]s))) end), epoch_us(q.lo)) end`, col)
}

var manySQL = `
with
req(r, lvl, unit, lo, hi, services, teams) as (
    values
    %[1]s
),

-- svc carries each request's window and unit beside the service and its
-- key, and gid, a number for the pair (request, key) that the facts are
-- grouped by (none for a missing key, which no fact counts for). It is
-- materialized so that the planner sees its true size and hashes it, not
-- the facts, when they meet.
svc_keys as (
    select q.r, q.unit, q.lo, q.hi, s.service,
           case q.lvl when 'team' then s.team
                      when 'department' then coalesce(s.department, '(none)')
                      when 'org' then '` + OrgKey + `'
                      else s.service end as key
    from req q, dim_services s
    where (json_array_length(q.services::JSON) = 0 or list_contains(list_transform(json_transform(q.services::JSON, '["VARCHAR"]'), x -> lower(trim(x))), s.service))
      and (json_array_length(q.teams::JSON) = 0 or list_contains(list_transform(json_transform(q.teams::JSON, '["VARCHAR"]'), x -> lower(trim(x))), s.team))
),

svc as materialized (
    select *, case when key is not null then dense_rank() over (order by r, key) end as gid
    from svc_keys
),

periods as (
    select
        q.r,
        greatest(timezone('UTC', p), q.lo) as period_start,
        least(timezone('UTC', p + case q.unit when 'week' then interval 7 day when 'month' then interval 1 month else interval 3 month end), q.hi) as period_end
    from req q,
         unnest(generate_series(date_trunc(q.unit, timezone('UTC', q.lo)),
                                timezone('UTC', q.hi) - interval 1 microsecond,
                                case q.unit when 'week' then interval 7 day when 'month' then interval 1 month else interval 3 month end)) as t(p)
    where q.unit <> ''
    union all
    select q.r, q.lo, q.hi from req q where q.unit = '' and q.lo < q.hi
),

grid as (
    select k.r, k.key, k.gid, p.period_start, p.period_end, epoch_us(p.period_start) as ps
    from (select distinct r, key, gid from svc) k
    join periods p on p.r = k.r
),

dep as (
    select q.gid, d.deployment_id, d.finished_at, d.is_failed, d.is_unplanned, ` + ps("d.finished_at") + ` as ps
    from fct_deployments d
    join svc q on q.service = d.service
    where d.is_production and d.status = 'success' and %[2]s
      and d.finished_at >= q.lo and d.finished_at < q.hi
),

dep_stats as (
    select
        gid, ps,
        count(*)                                   as deployments,
        count(*) filter (where is_failed)          as failed_deployments,
        count(*) filter (where is_unplanned)       as unplanned_deployments
    from dep
    group by all
),

-- The gap before each deployment in a window, to the one before it of the
-- same key. Only the window's deployments are sorted, with the last earlier
-- deployment of each key (prior) in front: it is all the first gap needs.
-- prior_svc is that deployment per service and distinct window start.
-- Deployments that finished at the same instant are not ordered further:
-- whichever comes first, the gaps between them are 0 and they fall in the
-- same period, so each period's gaps are the same.
prior_svc as (
    select l.lo, d.service, max(d.finished_at) as finished_at
    from fct_deployments d, (select distinct lo from req) l
    where d.is_production and d.status = 'success' and d.finished_at < l.lo and d.finished_at < %[7]s
    group by all
),

prior as (
    select s.gid, max(p.finished_at) as finished_at
    from prior_svc p
    join svc s on s.lo = p.lo and s.service = p.service
    group by all
),

intervals as (
    select gid, ps, gap_hours
    from (
        select gid, ps,
               (t - lag(t) over (partition by gid order by t)) / 3600e6 as gap_hours
        from (
            select gid, ps, epoch_us(finished_at) as t from dep
            union all
            select gid, null, epoch_us(finished_at) from prior
        )
    )
    where gap_hours is not null and ps is not null
),

interval_stats as (
    select gid, ps, quantile_cont(gap_hours, 0.5) as deploy_interval_median_hours
    from intervals
    group by all
),

-- Deployment days per week: every week that overlaps a period (weeks start
-- on Monday, UTC) with the days of that period that had a deployment.
weeks as (
    select g.gid, g.ps, epoch_us(w) as wk
    from grid g,
         unnest(generate_series(date_trunc('week', timezone('UTC', g.period_start)),
                                timezone('UTC', g.period_end) - interval 1 microsecond,
                                interval 7 day)) as t(w)
),

deploy_days as (
    select gid, ps, epoch_us(date_trunc('week', day)) as wk, count(*) as days
    from (
        select distinct gid, ps, date_trunc('day', make_timestamp(epoch_us(finished_at))) as day
        from dep
    )
    group by all
),

week_stats as (
    select w.gid, w.ps,
           quantile_cont(coalesce(d.days, 0), 0.5) as deployment_days_per_week,
           avg(coalesce(d.days, 0))                as deployment_days_per_week_mean
    from weeks w
    left join deploy_days d on d.gid = w.gid and d.ps = w.ps and d.wk = w.wk
    group by all
),

lead_q as (
    select
        q.gid, ` + ps("c.deployed_at") + ` as ps,
        quantile_cont(c.lead_time_hours, [0.5, 0.75, 0.9]) filter (where c.excluded_reason is null) as q,
        count(*) filter (where c.excluded_reason is null)     as lead_time_changes,
        count(*) filter (where c.excluded_reason is not null) as lead_time_excluded
    from fct_changes c
    join svc q on q.service = c.deployed_service
    where c.deployment_id is not null and %[3]s
      and c.deployed_at >= q.lo and c.deployed_at < q.hi
    group by all
),

recovery_q as (
    select
        q.gid, ` + ps("f.finished_at") + ` as ps,
        quantile_cont(f.recovery_hours, [0.5, 0.75, 0.9]) filter (where f.recovered_at is not null) as q,
        count(*) filter (where f.recovered_at is null) as unrecovered_failures
    from fct_failures f
    join svc q on q.service = f.service
    where %[4]s and f.finished_at >= q.lo and f.finished_at < q.hi
    group by all
),

mttr_stats as (
    select
        q.gid, ` + ps("i.resolved_at") + ` as ps,
        quantile_cont(i.resolve_hours, 0.5) as mttr_median_hours,
        quantile_cont(i.ack_hours, 0.5)     as mtta_median_hours
    from fct_incidents i
    join svc q on q.service = i.service
    where not i.is_false_positive and %[5]s
      and i.resolved_at >= q.lo and i.resolved_at < q.hi
    group by all
),

incident_stats as (
    select q.gid, ` + ps("i.opened_at") + ` as ps, count(*) as incidents
    from fct_incidents i
    join svc q on q.service = i.service
    where not i.is_false_positive and %[6]s
      and i.opened_at >= q.lo and i.opened_at < q.hi
    group by all
)

select
    g.r,
    g.key,
    g.period_start,
    g.period_end,
    coalesce(d.deployments, 0) as deployments,
    coalesce(d.deployments, 0) / ((epoch_us(g.period_end) - epoch_us(g.period_start)) / 86400e6) as deployments_per_day,
    w.deployment_days_per_week,
    i.deploy_interval_median_hours,
    l.q[1] as lead_time_median_hours,
    l.q[2] as lead_time_p75_hours,
    l.q[3] as lead_time_p90_hours,
    coalesce(l.lead_time_changes, 0) as lead_time_changes,
    coalesce(l.lead_time_excluded, 0) as lead_time_excluded,
    d.failed_deployments / d.deployments as change_failure_rate,
    coalesce(d.failed_deployments, 0) as failed_deployments,
    rc.q[1] as recovery_median_hours,
    rc.q[2] as recovery_p75_hours,
    rc.q[3] as recovery_p90_hours,
    coalesce(rc.unrecovered_failures, 0) as unrecovered_failures,
    d.unplanned_deployments / d.deployments as rework_rate,
    coalesce(d.unplanned_deployments, 0) as unplanned_deployments,
    m.mttr_median_hours,
    m.mtta_median_hours,
    coalesce(n.incidents, 0) as incidents,
    w.deployment_days_per_week_mean
from grid g
left join dep_stats d       on d.gid = g.gid and d.ps = g.ps
left join interval_stats i  on i.gid = g.gid and i.ps = g.ps
left join week_stats w      on w.gid = g.gid and w.ps = g.ps
left join lead_q l          on l.gid = g.gid and l.ps = g.ps
left join recovery_q rc     on rc.gid = g.gid and rc.ps = g.ps
left join mttr_stats m      on m.gid = g.gid and m.ps = g.ps
left join incident_stats n  on n.gid = g.gid and n.ps = g.ps
order by g.r, g.key, g.period_start
`
