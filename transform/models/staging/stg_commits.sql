-- The commit graph. Duplicates from several sources are harmless: the walk
-- deduplicates. message is extra.message, the commit message as far as
-- the source kept it (read for revert trailers). commit_row is the row's
-- position in the commits table: int_commits numbers the shas by it
-- (stable while the transform runs, which reads the table in one
-- transaction).
select
    c.rowid                             as commit_row,
    sha,
    repo,
    coalesce(parents, [])               as parents,
    authored_at,
    coalesce(committed_at, authored_at) as committed_at,
    author,
    extra ->> '$.message'               as message
from commits c
