-- One row per commit sha with a dense integer id, so that the commit-graph
-- walk joins and deduplicates integers rather than strings. committed_at is
-- the latest of the copies when several sources send the same commit (the
-- walk may pass a commit if any copy is recent enough).
with

shas as (
    select sha, max(committed_at) as committed_at
    from stg_commits
    group by sha
)

select
    row_number() over ()::integer as commit_id,
    sha,
    committed_at
from shas
