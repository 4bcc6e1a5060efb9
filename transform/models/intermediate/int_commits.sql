-- One row per commit sha with a dense integer id, so that the commit-graph
-- walk joins and deduplicates integers rather than strings. When several
-- sources send the same commit with different times, the walk may pass the
-- commit if any copy is recent enough (latest_committed_at), and a walk
-- bounded by it starts from the least restrictive copy
-- (earliest_committed_at; has_untimed_copy when a copy has no time).
with

shas as (
    select
        sha,
        max(committed_at)                   as latest_committed_at,
        min(committed_at)                   as earliest_committed_at,
        count(committed_at) < count(*)      as has_untimed_copy
    from stg_commits
    group by sha
)

select
    row_number() over ()::integer as commit_id,
    sha,
    latest_committed_at,
    earliest_committed_at,
    has_untimed_copy
from shas
