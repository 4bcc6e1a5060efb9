-- Edges of the commit graph (child → parent) by commit id, with the parent's
-- commit time, the input of the bounded walk. Parents unknown to the graph
-- are dropped: the walk stops there.
with

edges as (
    select sha, unnest(parents) as parent from stg_commits
),

commits as (
    select commit_id, sha, latest_committed_at from int_commits
)

select
    c.commit_id,
    p.commit_id           as parent_id,
    p.latest_committed_at as parent_committed_at
from edges e
join commits c on c.sha = e.sha
join commits p on p.sha = e.parent
