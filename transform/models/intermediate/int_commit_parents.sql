-- Edges of the commit graph (child → parent) with the parent's commit time,
-- the input of the bounded walk. Parents unknown to the graph are dropped:
-- the walk stops there.
with

edges as (
    select sha, unnest(parents) as parent from stg_commits
),

commit_times as (
    select sha, min(committed_at) as committed_at from stg_commits group by sha
)

select distinct
    e.sha,
    e.parent,
    t.committed_at as parent_committed_at
from edges e
join commit_times t on t.sha = e.parent
