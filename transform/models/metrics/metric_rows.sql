-- The DORA metrics of one request: one row per level key and period, as
-- `shiplog metrics` shows them before their tiers. level: service, team,
-- department, org or environment; unit: week, month, quarter, or '' (or
-- null) for the whole window; lo, hi: the window (hi exclusive), either
-- end null for open (metric_bounds closes it from the deployments in
-- scope); services, teams: the scope (empty: all); environments: the
-- production environments that count (empty: all). For example
--   from metric_rows('team', 'month', timestamptz '2025-01-01', timestamptz '2025-04-01')
-- materialized: table_macro
-- incremental: team
-- arguments: level, unit, lo, hi, services := [], teams := [], environments := []
-- The tests read the month of the latest deployment and the one before
-- (run values of the transform), which keeps them cheap on a big warehouse.
-- param: metric_test_lo timestamp null
-- param: metric_test_hi timestamp null
-- test_call: metric_rows('team', 'week', getvariable('metric_test_lo'), getvariable('metric_test_hi'))
-- test: unique(key, period_start)
-- test: not_null(key, period_start, period_end, deployments, lead_time_changes, failed_deployments, incidents)
-- With both ends given the window goes to metric_rows_many as it is, and
-- the branch that would close an open end is dropped when the call is
-- planned: a window end taken from a subquery is not a constant, and
-- metric_rows_many could then skip no row group of the facts by time (and
-- metric_bounds would read the scope's whole history for nothing).
select * exclude (r, deployment_days_per_week_mean)
from metric_rows_many([{
    r: 0,
    level: level::varchar,
    unit: coalesce(unit::varchar, ''),
    lo: lo::timestamptz,
    hi: hi::timestamptz,
    services: coalesce(services::varchar[], []),
    teams: coalesce(teams::varchar[], []),
    environments: coalesce(environments::varchar[], [])
}])
where lo is not null and hi is not null
union all
select * exclude (r, deployment_days_per_week_mean)
from metric_rows_many([{
    r: 0,
    level: level::varchar,
    unit: coalesce(unit::varchar, ''),
    lo: coalesce(lo::timestamptz, (select b.lo from metric_bounds(lo, hi, services, teams) b)),
    hi: coalesce(hi::timestamptz, (select b.hi from metric_bounds(lo, hi, services, teams) b)),
    services: coalesce(services::varchar[], []),
    teams: coalesce(teams::varchar[], []),
    environments: coalesce(environments::varchar[], [])
}])
where lo is null or hi is null
order by key, period_start
