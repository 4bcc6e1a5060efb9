-- Edges of the commit graph (child → parent) by commit id, with the parent's
-- commit time, the input of the bounded walk. Parents unknown to the graph
-- are dropped: the walk stops there. A row's own id is its commit_row
-- (int_commits' id for the first row of a sha), so only the parents' shas
-- are looked up; the other rows of a sha sent more than once (copies, the
-- few rows of int_commits' has_copies shas that are not the first) take
-- the first row's id.
with

copies as materialized (
    select r.commit_row, k.commit_id
    from stg_commits r
    join int_commits k on k.sha = r.sha
    where k.has_copies and r.commit_row <> k.commit_id
),

edges as (
    select commit_row, unnest(parents) as parent from stg_commits
)

select
    coalesce(d.commit_id, e.commit_row) as commit_id,
    p.commit_id                         as parent_id,
    p.latest_committed_at               as parent_committed_at
from edges e
left join copies d on d.commit_row = e.commit_row
join int_commits p on p.sha = e.parent
