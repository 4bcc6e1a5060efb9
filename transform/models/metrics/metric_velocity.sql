-- Velocity per level key and period: changes shipped (counted at the
-- service of the deployment that shipped them), successful production
-- deployments, pull requests merged, and distinct authors of the shipped
-- and merged changes. Arguments as metric_rows; an open window end reads
-- everything on that side, and without a unit the period is lo.
-- materialized: table_macro
-- incremental: team
-- arguments: level, unit, lo, hi, services := [], teams := []
-- The tests read the month of the latest deployment and the one before
-- (run values of the transform), which keeps them cheap on a big warehouse.
-- param: metric_test_lo timestamp null
-- param: metric_test_hi timestamp null
-- test_call: metric_velocity('team', 'week', getvariable('metric_test_lo'), getvariable('metric_test_hi'))
-- test: unique(key, period_start)
-- test: not_null(key, changes_shipped, deployments, prs_merged)
with
svc as (
    select * from metric_scope(level, services, teams)
),

-- A shipped change counts at its deployment's service, which fct_changes
-- carries (deployed_service): no join of the deployments' whole history.
events as (
    select s.key, metric_period(unit, lo, c.deployed_at) as period_start, 1 as shipped, 0 as deployed, 0 as merged, c.author
    from fct_changes c
    join svc s on s.service = c.deployed_service
    where c.deployment_id is not null and metric_in_window(c.deployed_at, lo, hi)
    union all
    select s.key, metric_period(unit, lo, d.finished_at), 0, 1, 0, null
    from fct_deployments d join svc s on s.service = d.service
    where d.is_production and d.status = 'success' and metric_in_window(d.finished_at, lo, hi)
    union all
    select s.key, metric_period(unit, lo, c.merged_at), 0, 0, 1, c.author
    from fct_changes c join svc s on s.service = c.service
    where c.merged_at is not null and c.opened_at is not null and metric_in_window(c.merged_at, lo, hi)
)

select key, period_start,
       sum(shipped) as changes_shipped, sum(deployed) as deployments, sum(merged) as prs_merged,
       count(distinct author) as authors
from events
group by all
order by 1, 2
