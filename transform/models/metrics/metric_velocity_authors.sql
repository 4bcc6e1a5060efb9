-- Velocity per author and period: changes shipped and pull requests
-- merged, with the level keys the author worked in (keys, comma-separated).
-- Arguments as metric_velocity.
-- materialized: table_macro
-- arguments: level, unit, lo, hi, services := [], teams := []
with
svc as (
    select * from metric_scope(level, services, teams)
),

-- A shipped change counts at its deployment's service, which fct_changes
-- carries (deployed_service): no join of the deployments' whole history.
events as (
    select c.author, s.key, metric_period(unit, lo, c.deployed_at) as period_start, 1 as shipped, 0 as merged
    from fct_changes c
    join svc s on s.service = c.deployed_service
    where c.deployment_id is not null and metric_in_window(c.deployed_at, lo, hi)
    union all
    select c.author, s.key, metric_period(unit, lo, c.merged_at), 0, 1
    from fct_changes c join svc s on s.service = c.service
    where c.merged_at is not null and c.opened_at is not null and metric_in_window(c.merged_at, lo, hi)
)

select coalesce(author, '(unknown)') as author, string_agg(distinct key, ',' order by key) as keys, period_start,
       sum(shipped) as changes_shipped, sum(merged) as prs_merged
from events
group by author, period_start
order by 1, 3
