-- Edges of the commit graph (child → parent) with the parent's commit time,
-- the input of the bounded walk. Parents unknown to the graph are dropped:
-- the walk stops there.
with

edges as (
    select sha, unnest(parents) as parent from stg_commits
)

select
    e.sha,
    e.parent,
    p.committed_at as parent_committed_at
from edges e
join stg_commits p on p.sha = e.parent
