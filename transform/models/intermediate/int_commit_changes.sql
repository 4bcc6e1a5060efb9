-- Commit-level changes, for services whose lead time is counted per commit
-- (int_lead_time_granularity): each commit that a successful production
-- deployment of such a service first ships, as the commit graph walk
-- (int_commit_walk: reachable from the deployment's commit, not from the
-- previous one's) finds it, is a change of that service with first_commit_at
-- = its author time. Merge commits (more than one parent) are not changes:
-- what they bring is the commits they merge, each counted on its own, and a
-- merge's own time is when the branch landed, not when its work began. A
-- commit reached by deployments of several such services belongs to the
-- earliest (then the first service by name). change_row is negative, so it
-- never meets a change record's row number; int_changes adds these rows to
-- the change records, and the linking that follows finds each at its
-- deployment by the same walk (rule b).
with

commit_services as (
    select service from int_lead_time_granularity where lead_time_from = 'commits'
),

walked as (
    select w.commit_id, d.service, d.finished_at
    from int_commit_walk w
    join int_prod_deployments d on d.dep_idx = w.dep_idx
    join commit_services s on s.service = d.service
),

first_service as (
    select commit_id, arg_min(service, (finished_at, service)) as service
    from walked
    group by commit_id
),

shipped as (
    select f.commit_id, f.service, k.sha
    from first_service f
    join int_commits k on k.commit_id = f.commit_id
),

commits as (
    select s.commit_id, s.service, s.sha, any_value(c.repo) as repo, any_value(c.author) as author,
           min(c.authored_at) as authored_at, max(len(c.parents)) as parent_count
    from shipped s
    join stg_commits c on c.sha = s.sha
    group by s.commit_id, s.service, s.sha
)

select
    -row_number() over (order by commit_id) as change_row,
    sha as change_id,
    service,
    repo,
    author,
    authored_at as first_commit_at
from commits
where parent_count <= 1
  and authored_at is not null
