-- Edges of the commit graph (child → parent) by commit id, with the parent's
-- commit time, the input of the bounded walk. Parents unknown to the graph
-- are dropped: the walk stops there.
with

edges as (
    select sha, unnest(parents) as parent from stg_commits
)

-- int_commits is named twice rather than through a shared CTE: DuckDB
-- would materialize that CTE, a copy of every commit
select
    c.commit_id,
    p.commit_id           as parent_id,
    p.latest_committed_at as parent_committed_at
from edges e
join int_commits c on c.sha = e.sha
join int_commits p on p.sha = e.parent
