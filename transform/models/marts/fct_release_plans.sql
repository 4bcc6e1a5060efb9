-- Release plans against what shipped. A plan is for production when it
-- names no environment or a configured production name (is_production);
-- a production plan shipped with the first successful production
-- deployment of its service and version (shipped_at, shipped_by), and
-- shipped on time when that was no later than the end of its window
-- (planned_at when it has none). slip_days = shipped - planned (negative:
-- early). Whether an unshipped plan is missed or still planned depends on
-- the day one asks; readers compare planned_at with their clock.
-- test: unique(plan_id)
-- test: not_null(plan_id, service, version, planned_at, is_production)
-- test: relationships(shipped_by -> fct_deployments.deployment_id)
-- incremental: service
with

settings as (
    select * from cfg
),

plans as (
    select * from stg_release_plans
),

-- only the versions some plan names (a semi join first: most deployments
-- have no plan, and usually there are no plans at all)
shipped as (
    select d.service, d.version, arg_min(d.deployment_id, d.finished_at) as deployment_id, min(d.finished_at) as shipped_at
    from int_prod_deployments d
    semi join plans p on p.service = d.service and p.version = d.version
    group by d.service, d.version
)

select
    p.plan_id,
    p.service,
    p.version,
    p.planned_at,
    p.window_start,
    p.window_end,
    p.environment,
    p.is_production,
    s.shipped_at,
    s.deployment_id as shipped_by,
    (epoch(s.shipped_at) - epoch(p.planned_at)) / 86400.0 as slip_days,
    s.shipped_at <= coalesce(p.window_end, p.planned_at) as shipped_on_time
from (
    select p.*, p.environment is null or list_contains(c.production_environments, p.environment) as is_production
    from plans p
    cross join settings c
) p
left join shipped s on p.is_production and s.service = p.service and s.version = p.version
order by p.planned_at, p.plan_id
