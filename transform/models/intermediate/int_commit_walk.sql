-- Commits each commit_graph deployment shipped: reachable from its
-- commit_sha and not from the previous successful production deployment of
-- the service. The walk follows parents from the deployment's commit and
-- stops at the previous deployment's commit and at any commit older than it
-- (commit time), so each deployment walks only its new commits; a
-- deployment without a predecessor walks its whole ancestry.
with recursive

starts as (
    select
        d.deployment_id,
        d.commit_sha                               as sha,
        d.prev_commit_sha                          as stop_sha,
        coalesce(t.committed_at, d.prev_start_ts)  as bound
    from int_prod_deployments d
    left join stg_commits t on t.sha = d.prev_commit_sha
    where d.link_rule = 'commit_graph'
      and d.commit_sha is distinct from d.prev_commit_sha
),

walk(deployment_id, sha, stop_sha, bound) as (
    select deployment_id, sha, stop_sha, bound from starts
    union
    select w.deployment_id, p.parent, w.stop_sha, w.bound
    from walk w
    join int_commit_parents p on p.sha = w.sha
    where p.parent is distinct from w.stop_sha
      and (w.bound is null or p.parent_committed_at >= w.bound)
)

select distinct w.deployment_id, d.service, d.finished_at, w.sha
from walk w
join int_prod_deployments d on d.deployment_id = w.deployment_id
