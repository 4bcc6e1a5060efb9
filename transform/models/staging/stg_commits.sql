-- The commit graph. Duplicates from several sources are harmless: the walk
-- deduplicates. message is extra.message, the commit message as far as
-- the source kept it (read for revert trailers).
select
    sha,
    repo,
    coalesce(parents, [])               as parents,
    authored_at,
    coalesce(committed_at, authored_at) as committed_at,
    author,
    extra ->> '$.message'               as message
from commits
