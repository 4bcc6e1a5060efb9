-- Incidents resolved per level key, period and severity, with the median,
-- p75 and p90 time to resolve and the median time to acknowledge (hours);
-- false positives are left out. Arguments as metric_velocity.
-- materialized: table_macro
-- incremental: team
-- arguments: level, unit, lo, hi, services := [], teams := []
-- The tests read the month of the latest deployment and the one before
-- (run values of the transform), which keeps them cheap on a big warehouse.
-- param: metric_test_lo timestamp null
-- param: metric_test_hi timestamp null
-- test_call: metric_mttr('team', 'week', getvariable('metric_test_lo'), getvariable('metric_test_hi'))
-- test: unique(key, period_start, severity)
-- test: not_null(key, severity, incidents_resolved)
select s.key, metric_period(unit, lo, i.resolved_at) as period_start, i.severity,
       count(*) as incidents_resolved,
       quantile_cont(i.resolve_hours, 0.5) as mttr_median_hours,
       quantile_cont(i.resolve_hours, 0.75) as mttr_p75_hours,
       quantile_cont(i.resolve_hours, 0.9) as mttr_p90_hours,
       quantile_cont(i.ack_hours, 0.5) as mtta_median_hours
from fct_incidents i
join metric_scope(level, services, teams) s on s.service = i.service
where not i.is_false_positive and i.resolved_at is not null and metric_in_window(i.resolved_at, lo, hi)
group by all
order by 1, 2, 3
