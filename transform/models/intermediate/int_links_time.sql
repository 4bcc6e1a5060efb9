-- materialized: view
-- Rule (c): changes of the service merged after the previous successful
-- production deployment started and before this one started, for
-- deployments that use the time rule. A change without merged_at that is
-- not a pull request (a direct commit) counts as merged at its first commit.
with

changes as (
    select
        change_row,
        service,
        coalesce(merged_at, case when opened_at is null then first_commit_at end) as merged_ts
    from int_changes
),

deployments as (
    select dep_idx, service, start_ts, finished_at, link_rule
    from int_prod_deployments
)

select d.dep_idx, d.finished_at, c.change_row
from changes c
asof join deployments d on c.service = d.service and c.merged_ts < d.start_ts
where c.merged_ts is not null
  and d.link_rule = 'time'
