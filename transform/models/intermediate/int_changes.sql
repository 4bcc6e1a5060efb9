-- Each change once (stg_changes is read here only, its deduplication runs
-- once), with what linking and fct_changes need and the service it belongs
-- to. A change whose service names no
-- known service but a repository hosting several services (a monorepo) is
-- placed by its extra.files against the services' paths globs: the service
-- matching most files wins, ties by service id.
with

services as (
    select * from stg_services
),

changes as materialized (
    select * from stg_changes
),

unplaced as (
    select c.change_id, c.service as repo_key, c.repo, c.files
    from changes c
    anti join services s on s.service = c.service
    where len(c.files) > 0
),

files as (
    select change_id, repo_key, repo, unnest(files) as file from unplaced
),

patterns as (
    select service, repo, unnest(paths) as pattern from services where len(paths) > 0
),

placed as (
    select f.change_id, p.service, count(distinct f.file) as matched
    from files f
    join patterns p on (p.repo = f.repo or p.repo = f.repo_key) and f.file glob p.pattern
    group by f.change_id, p.service
    qualify row_number() over (partition by f.change_id order by count(distinct f.file) desc, p.service) = 1
)

select
    c.change_id,
    coalesce(p.service, c.service) as service,
    c.repo,
    c.title,
    c.author,
    c.commit_shas,
    c.merge_commit_sha,
    c.first_commit_at,
    c.opened_at,
    c.first_review_at,
    c.approved_at,
    c.merged_at,
    c.approvals,
    c.is_revert
from changes c
left join placed p on p.change_id = c.change_id
