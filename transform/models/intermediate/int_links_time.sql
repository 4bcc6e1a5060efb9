-- materialized: view
-- Rule (c): changes of the service merged after the previous successful
-- production deployment started and before this one started, for
-- deployments that use the time rule. A change without merged_at that is
-- not a pull request (a direct commit) counts as merged at its first commit.
-- A claim beats a guess: only a change that no deployment claims (none
-- in int_first_claims: no list names it, no walk reached it) is linked by
-- time, so the ASOF join sorts those changes, not every change.
with

changes as (
    select
        c.change_row,
        c.service,
        coalesce(c.merged_at, case when c.opened_at is null then c.first_commit_at end) as merged_ts
    from int_changes c
    anti join int_first_claims k on k.change_row = c.change_row
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
