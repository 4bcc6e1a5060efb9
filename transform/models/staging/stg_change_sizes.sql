-- The size of each change, one row per id (the first source by name wins):
-- lines added and deleted (extra.additions and extra.deletions, as GitHub
-- pull requests carry them) and its commits (commit_shas). A view of its
-- own, apart from stg_changes: only the queries that bucket deployments
-- by size read it, so the transform never parses seven million extras.
select
    id                                          as change_id,
    try_cast(extra ->> 'additions' as bigint)   as additions,
    try_cast(extra ->> 'deletions' as bigint)   as deletions,
    len(commit_shas)                            as commit_count
from changes
qualify row_number() over (partition by id order by source) = 1
