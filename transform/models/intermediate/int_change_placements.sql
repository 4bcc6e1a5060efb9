-- Changes of a monorepo: a change whose service names no known service but
-- a repository hosting several services is placed by its extra.files
-- against the services' paths globs; the service matching most files wins,
-- ties by service id. Only such changes have a row here (usually few or
-- none), so int_changes can stay a view over stg_changes.
with

services as (
    select * from stg_services
),

unplaced as (
    select c.change_id, c.service as repo_key, c.repo, c.files
    from stg_changes c
    anti join services s on s.service = c.service
    where len(c.files) > 0
),

files as (
    select change_id, repo_key, repo, unnest(files) as file from unplaced
),

patterns as (
    select service, repo, unnest(paths) as pattern from services where len(paths) > 0
)

select f.change_id, p.service, count(distinct f.file) as matched
from files f
join patterns p on (p.repo = f.repo or p.repo = f.repo_key) and f.file glob p.pattern
group by f.change_id, p.service
qualify row_number() over (partition by f.change_id order by count(distinct f.file) desc, p.service) = 1
