-- Where the commit-graph walk starts and stops for each commit_graph
-- deployment: its commit, the previous successful production deployment's
-- commit (stop), and the time bound (that commit's time, else the previous
-- deployment's start), with integer ids for the walk. A commit sent by
-- several sources with different times gives one row per time, as each
-- bound is walked.
with

deployments as (
    select deployment_id, commit_sha, prev_commit_sha, prev_start_ts
    from int_prod_deployments
    where link_rule = 'commit_graph'
      and commit_sha is distinct from prev_commit_sha
),

commits as (
    select commit_id, sha from int_commits
),

bounded as (
    select
        d.deployment_id,
        d.commit_sha,
        d.prev_commit_sha,
        coalesce(t.committed_at, d.prev_start_ts) as bound
    from deployments d
    left join stg_commits t on t.sha = d.prev_commit_sha
)

select
    row_number() over ()::integer as walk_id,
    b.deployment_id,
    c.commit_id,
    s.commit_id                   as stop_id,
    b.bound
from bounded b
join commits c on c.sha = b.commit_sha
left join commits s on s.sha = b.prev_commit_sha
