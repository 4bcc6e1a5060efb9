-- Commit-level changes, for services whose lead time is counted per commit
-- (int_lead_time_granularity): each commit that a successful production
-- deployment of such a service first ships is a change of that service,
-- with first_commit_at = its author time and dep_idx that deployment.
-- "First ships" is exact: of the deployments whose commit reaches the
-- commit through the commit graph, the one that finished first (then the
-- lower dep_idx). It is found by carrying each deployment's rank down the
-- parents and keeping, per commit, the best rank that reached it (a
-- recursive CTE keyed by commit: a walk goes on only where it improves
-- the rank, so a linear history is walked about once). Unlike the bounded
-- walk of rule (b) (int_commit_walk: from a deployment to the previous
-- one's commit), this stays right when releases are tagged on several
-- branches (a patch release of an older line between two releases of the
-- main line). Merge commits (more than one parent) are not changes: what
-- they bring is the commits they merge, each counted on its own, and a
-- merge's own time is when the branch landed, not when its work began.
-- change_row is negative, so it never meets a change record's row number;
-- int_changes adds these rows to the change records, and int_links_graph
-- links each to its deployment.
with recursive

commit_services as materialized (
    select service from int_lead_time_granularity where lead_time_from = 'commits'
),

-- The commit graph and the commits, only when some service counts per
-- commit: with none (every service with pull-request or change records),
-- the joins below would still build their hash tables over millions of
-- commits to find nothing.
parents as (
    select p.commit_id, p.parent_id
    from int_commit_parents p
    where exists (select 1 from commit_services)
),

known_commits as (
    select k.commit_id, k.sha
    from int_commits k
    where exists (select 1 from commit_services)
),

ranked as (
    select d.dep_idx, d.commit_id,
           row_number() over (order by d.finished_at, d.dep_idx) as dep_rank
    from int_prod_deployments d
    join commit_services s on s.service = d.service
    where d.commit_id is not null
),

first_ship(commit_id, dep_rank) using key (commit_id) as (
    select commit_id, min(dep_rank) from ranked group by commit_id
    union
    select p.parent_id, min(f.dep_rank)
    from first_ship f
    join parents p on p.commit_id = f.commit_id
    left join recurring.first_ship r on r.commit_id = p.parent_id
    where r.commit_id is null or f.dep_rank < r.dep_rank
    group by p.parent_id
),

first_service as (
    select f.commit_id, r.dep_idx, d.service
    from first_ship f
    join ranked r on r.dep_rank = f.dep_rank
    join int_prod_deployments d on d.dep_idx = r.dep_idx
),

shipped as (
    select f.commit_id, f.dep_idx, f.service, k.sha
    from first_service f
    join known_commits k on k.commit_id = f.commit_id
),

commits as (
    select s.commit_id, s.dep_idx, s.service, s.sha, any_value(c.repo) as repo, any_value(c.author) as author,
           min(c.authored_at) as authored_at, max(len(c.parents)) as parent_count
    from shipped s
    join stg_commits c on c.sha = s.sha
    where exists (select 1 from commit_services)
    group by s.commit_id, s.dep_idx, s.service, s.sha
)

select
    -row_number() over (order by commit_id) as change_row,
    sha as change_id,
    service,
    repo,
    author,
    authored_at as first_commit_at,
    dep_idx
from commits
where parent_count <= 1
  and authored_at is not null
