-- materialized: view
-- The commit graph as the warehouse knows it: one row per sha and
-- repository, with its parents (copies of one commit from several sources
-- once). A view: the graph is read by drift's walks, never in whole.
select sha, repo, any_value(parents) as parents, min(authored_at) as authored_at, max(committed_at) as committed_at
from stg_commits
group by sha, repo
