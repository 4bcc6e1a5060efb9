-- The commit graph. Duplicates from several sources are harmless: the walk
-- deduplicates.
select
    sha,
    repo,
    coalesce(parents, [])               as parents,
    authored_at,
    coalesce(committed_at, authored_at) as committed_at,
    author
from commits
