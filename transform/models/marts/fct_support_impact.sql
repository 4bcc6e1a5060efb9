-- Support tickets in the configured number of days after each successful
-- production deployment, (finished_at, finished_at + window], against the
-- service's baseline rate over the days before it, (finished_at - baseline,
-- finished_at]. Counts come from ASOF joins on a running count of tickets
-- per service, so no deployment scans the tickets table.
-- test: unique(deployment_id)
with

settings as (
    select * from cfg
),

tickets as (
    select
        service,
        created_at,
        count(*) over (partition by service order by created_at) as seen
    from stg_support_tickets
),

probes as (
    select
        d.deployment_id,
        d.service,
        d.version,
        d.finished_at,
        d.finished_at + to_days(s.support_window_days)   as after_end,
        d.finished_at - to_days(s.support_baseline_days) as baseline_start,
        s.support_window_days,
        s.support_baseline_days
    from int_prod_deployments d
    cross join settings s
),

counted as (
    select
        p.*,
        coalesce(a.seen, 0) - coalesce(b.seen, 0) as tickets_after,
        (coalesce(b.seen, 0) - coalesce(c.seen, 0)) / p.support_baseline_days as baseline_per_day
    from probes p
    asof left join tickets a on a.service = p.service and a.created_at <= p.after_end
    asof left join tickets b on b.service = p.service and b.created_at <= p.finished_at
    asof left join tickets c on c.service = p.service and c.created_at <= p.baseline_start
)

select
    deployment_id,
    service,
    version,
    finished_at,
    tickets_after,
    baseline_per_day,
    baseline_per_day * support_window_days as expected_after,
    tickets_after / nullif(baseline_per_day * support_window_days, 0) as ratio
from counted
order by finished_at
