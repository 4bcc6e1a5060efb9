-- The DORA metrics for several requests in one pass over the marts: one
-- row per request (r), level key and period, with the metrics `shiplog
-- metrics` shows (metric_rows is this for a single request). A request is
-- {r, level, unit, lo, hi, services, teams, environments}: level service,
-- team, department, org or environment; unit week, month, quarter or ''
-- (the whole window); lo and hi the window (hi exclusive; both required
-- here); services and teams the scope (empty: all); environments the
-- production environments whose deployments count (empty: all).
--
-- A request at the environment level, or naming environments, is split:
-- each service in scope is a row of svc per production environment it
-- has deployed to (env), and facts of a deployment (its changes, its
-- failure) count only at the row of its environment; the level key is the
-- environment at that level. Incidents carry no environment: a split
-- request has no MTTR and NULL incidents.
--
-- Each service in scope of a request is a row of svc with its level key
-- and gid, a number for the pair (request, key) that the facts are grouped
-- by. A fact joins the requests whose scope holds its service and whose
-- window holds its time, and is counted in the period whose start (ps,
-- microseconds since the epoch) is the UTC start of its week, month or
-- quarter clipped to the window's start — or the window's start without a
-- unit. Periods are named by that number, so facts meet the grid of
-- periods on equality. A change counts at the service (and so the team)
-- of the deployment that shipped it, which need not be its own.
--
-- The outer window bounds (metric_span_lo, metric_span_hi) are constants
-- once the call's requests are: DuckDB then skips row groups of the facts
-- by their min/max.
-- materialized: table_macro
-- arguments: requests
with
-- The requests' fields get names of their own here: a macro's argument
-- replaces every bare column of the same name in the macros it calls, so
-- no column below is named like an argument of metric_rows (level, unit,
-- lo, hi, services, teams).
req as (
    select x.r, x.level as lvl, x.unit as period_unit, x.lo as win_lo, x.hi as win_hi,
           x.services as scope_services, x.teams as scope_teams,
           list_transform(coalesce(x.environments, []), lambda e: lower(trim(e))) as scope_envs,
           x.level = 'environment' or len(coalesce(x.environments, [])) > 0 as split
    from (select unnest(requests) as x)
),

-- the production environments each service has deployed to, which a
-- split request's rows are made of (read only when a request is split)
prod_envs as (
    select distinct service, environment
    from fct_deployments
    where is_production and status = 'success'
      and (select bool_or(split) from req)
),

-- svc carries each request's window and unit beside the service and its
-- key (none for a missing key, which no fact counts for). It is
-- materialized so that the planner sees its true size and hashes it, not
-- the facts, when they meet.
svc_keys as (
    select q.r, q.period_unit, q.win_lo, q.win_hi, s.service, null::varchar as env, s.key
    from req q, metric_scope(q.lvl, q.scope_services, q.scope_teams) s
    where not q.split
    union all
    select q.r, q.period_unit, q.win_lo, q.win_hi, s.service, e.environment,
           case when q.lvl = 'environment' then e.environment else s.key end
    from req q, metric_scope(q.lvl, q.scope_services, q.scope_teams) s, prod_envs e
    where q.split and e.service = s.service
      and (len(q.scope_envs) = 0 or list_contains(q.scope_envs, e.environment))
),

svc as materialized (
    select *, case when key is not null then dense_rank() over (order by r, key) end as gid
    from svc_keys
),

periods as (
    select
        q.r,
        greatest(timezone('UTC', p), q.win_lo) as period_start,
        least(timezone('UTC', p + case q.period_unit when 'week' then interval 7 day when 'month' then interval 1 month else interval 3 month end), q.win_hi) as period_end
    from req q,
         unnest(generate_series(date_trunc(q.period_unit, timezone('UTC', q.win_lo)),
                                timezone('UTC', q.win_hi) - interval 1 microsecond,
                                case q.period_unit when 'week' then interval 7 day when 'month' then interval 1 month else interval 3 month end)) as t(p)
    where q.period_unit <> ''
    union all
    select q.r, q.win_lo, q.win_hi from req q where q.period_unit = '' and q.win_lo < q.win_hi
),

-- What sources cover each key (dim_service_sources, the one home of the
-- rule): a key has an incident (change) source when any of its services
-- has one. Without one, the metrics that need it are null, with the
-- reason in unknown_reason columns, not zero.
sources as (
    select s.gid,
           bool_or(c.has_incident_source) as has_incident_source,
           bool_or(c.has_change_source)   as has_change_source
    from svc s
    join dim_service_sources c on c.service = s.service
    where s.gid is not null
    group by s.gid
),

grid as (
    select k.r, k.key, k.gid, p.period_start, p.period_end, epoch_us(p.period_start) as ps
    from (select distinct r, key, gid from svc) k
    join periods p on p.r = k.r
),

-- Each unit is named as a constant in metric_period_start: date_trunc
-- reads a constant unit once, a column's for every row.
dep as (
    select q.gid, d.deployment_id, d.finished_at, d.is_failed, d.is_unplanned,
           metric_period_start(q.period_unit, q.win_lo, d.finished_at) as ps
    from fct_deployments d
    join svc q on q.service = d.service and (q.env is null or q.env = d.environment)
    where d.is_production and d.status = 'success'
      and d.finished_at >= metric_span_lo(requests) and d.finished_at < metric_span_hi(requests)
      and d.finished_at >= q.win_lo and d.finished_at < q.win_hi
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
-- prior_svc is that deployment per service and distinct window start, of
-- the services in scope only: their deployments are picked out (IN hashes
-- svc, a few rows) before they meet the window starts and are grouped, so
-- the history of the services out of scope is read but never grouped.
-- (Joining svc to the deployments instead makes DuckDB hash the history:
-- it cannot tell svc's size.)
-- Deployments that finished at the same instant are not ordered further:
-- whichever comes first, the gaps between them are 0 and they fall in the
-- same period, so each period's gaps are the same.
prior_svc as (
    select l.win_lo, d.service, d.environment, max(d.finished_at) as finished_at
    from (
        select service, environment, finished_at
        from fct_deployments
        where is_production and status = 'success'
          and finished_at < metric_span_hi(requests)
          and service in (select service from svc)
    ) d, (select distinct win_lo from req) l
    where d.finished_at < l.win_lo
    group by all
),

prior as (
    select s.gid, max(p.finished_at) as finished_at
    from prior_svc p
    join svc s on s.win_lo = p.win_lo and s.service = p.service and (s.env is null or s.env = p.environment)
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

-- Changes meet the deployments that shipped them (dep), so each counts at
-- that deployment's service and key, in its period.
lead_q as (
    select
        q.gid, q.ps,
        quantile_cont(c.lead_time_hours, [0.5, 0.75, 0.9]) filter (where c.excluded_reason is null) as q,
        count(*) filter (where c.excluded_reason is null)     as lead_time_changes,
        count(*) filter (where c.excluded_reason is not null) as lead_time_excluded
    from (
        -- the changes of dep's deployments first (IN hashes dep, the
        -- few), so that the join below does not hash the window's
        -- changes of every service; a change's deployed_service is its
        -- deployment's, so the first condition only narrows the scan
        select c.deployment_id, c.lead_time_hours, c.excluded_reason
        from fct_changes c
        where c.deployment_id is not null
          and c.deployed_at >= metric_span_lo(requests) and c.deployed_at < metric_span_hi(requests)
          and c.deployed_service in (select service from svc)
          and c.deployment_id in (select deployment_id from dep)
    ) c
    join dep q on q.deployment_id = c.deployment_id
    group by all
),

recovery_q as (
    select
        q.gid, metric_period_start(q.period_unit, q.win_lo, f.finished_at) as ps,
        quantile_cont(f.recovery_hours, [0.5, 0.75, 0.9]) filter (where f.recovered_at is not null) as q,
        count(*) filter (where f.recovered_at is null) as unrecovered_failures
    from fct_failures f
    join svc q on q.service = f.service and (q.env is null or q.env = f.environment)
    where f.finished_at >= metric_span_lo(requests) and f.finished_at < metric_span_hi(requests)
      and f.finished_at >= q.win_lo and f.finished_at < q.win_hi
    group by all
),

mttr_stats as (
    select
        q.gid, metric_period_start(q.period_unit, q.win_lo, i.resolved_at) as ps,
        quantile_cont(i.resolve_hours, 0.5) as mttr_median_hours,
        quantile_cont(i.ack_hours, 0.5)     as mtta_median_hours
    from fct_incidents i
    join svc q on q.service = i.service and q.env is null
    where not i.is_false_positive
      and i.resolved_at >= metric_span_lo(requests) and i.resolved_at < metric_span_hi(requests)
      and i.resolved_at >= q.win_lo and i.resolved_at < q.win_hi
    group by all
),

incident_stats as (
    select q.gid, metric_period_start(q.period_unit, q.win_lo, i.opened_at) as ps, count(*) as incidents
    from fct_incidents i
    join svc q on q.service = i.service and q.env is null
    where not i.is_false_positive
      and i.opened_at >= metric_span_lo(requests) and i.opened_at < metric_span_hi(requests)
      and i.opened_at >= q.win_lo and i.opened_at < q.win_hi
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
    case when src.has_incident_source then d.failed_deployments / d.deployments end as change_failure_rate,
    coalesce(d.failed_deployments, 0) as failed_deployments,
    case when src.has_incident_source then rc.q[1] end as recovery_median_hours,
    case when src.has_incident_source then rc.q[2] end as recovery_p75_hours,
    case when src.has_incident_source then rc.q[3] end as recovery_p90_hours,
    coalesce(rc.unrecovered_failures, 0) as unrecovered_failures,
    d.unplanned_deployments / d.deployments as rework_rate,
    coalesce(d.unplanned_deployments, 0) as unplanned_deployments,
    m.mttr_median_hours,
    m.mtta_median_hours,
    case when not rq.split then coalesce(n.incidents, 0) end as incidents,
    case when not coalesce(src.has_change_source, false) then 'no change source' end as lead_time_unknown_reason,
    case when not coalesce(src.has_incident_source, false) then 'no incident source' end as failure_unknown_reason,
    w.deployment_days_per_week_mean
from grid g
join req rq                 on rq.r = g.r
left join sources src       on src.gid = g.gid
left join dep_stats d       on d.gid = g.gid and d.ps = g.ps
left join interval_stats i  on i.gid = g.gid and i.ps = g.ps
left join week_stats w      on w.gid = g.gid and w.ps = g.ps
left join lead_q l          on l.gid = g.gid and l.ps = g.ps
left join recovery_q rc     on rc.gid = g.gid and rc.ps = g.ps
left join mttr_stats m      on m.gid = g.gid and m.ps = g.ps
left join incident_stats n  on n.gid = g.gid and n.ps = g.ps
order by g.r, g.key, g.period_start
