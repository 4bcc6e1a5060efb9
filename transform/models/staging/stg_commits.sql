-- The commit graph. Duplicates from several sources are harmless: the walk
-- deduplicates. message is extra.message, the commit message as far as
-- the source kept it (read for revert trailers). commit_row numbers the
-- rows (from 1; DuckDB's row id, so it costs nothing to read): the first
-- row of a sha is its commit id (int_commits), so that each row's edges
-- need no lookup of its own sha (int_commit_parents).
select
    (rowid + 1)::integer                as commit_row,
    sha,
    repo,
    coalesce(parents, [])               as parents,
    authored_at,
    coalesce(committed_at, authored_at) as committed_at,
    author,
    extra ->> '$.message'               as message
from commits
