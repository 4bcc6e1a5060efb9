-- Support tickets in the configured number of days after each successful
-- production deployment, (finished_at, finished_at + window], against the
-- service's baseline rate over the days before it, (finished_at - baseline,
-- finished_at]. Counts come from ASOF joins on a running count of tickets
-- per service (times as epoch microseconds), so no deployment scans the
-- tickets table.
-- test: unique(deployment_id)
-- incremental: service
with

settings as (
    select * from cfg
),

tickets as (
    select
        service,
        epoch_us(created_at) as at_us,
        count(*) over (partition by service order by created_at) as seen
    from stg_support_tickets
),

probes as (
    select
        d.deployment_id,
        d.service,
        d.version,
        d.finished_at,
        epoch_us(d.finished_at)                                           as finished_us,
        epoch_us(d.finished_at) + s.support_window_days * 86400000000     as after_end_us,
        epoch_us(d.finished_at) - s.support_baseline_days * 86400000000   as baseline_start_us,
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
    asof left join tickets a on a.service = p.service and a.at_us <= p.after_end_us
    asof left join tickets b on b.service = p.service and b.at_us <= p.finished_us
    asof left join tickets c on c.service = p.service and c.at_us <= p.baseline_start_us
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
