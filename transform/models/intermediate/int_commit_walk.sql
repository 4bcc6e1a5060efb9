-- Commits each commit_graph deployment shipped: reachable from its
-- commit_sha and not from the previous successful production deployment of
-- the service. The walk follows parents from the deployment's commit and
-- stops at the previous deployment's commit and at any commit older than it
-- (commit time), so each deployment walks only its new commits; a
-- deployment without a predecessor walks its whole ancestry. The walk runs
-- on integer ids (int_walk_starts, int_commit_parents) and returns
-- (dep_idx, commit id) pairs; the linking joins them to changes by id.
with recursive

starts as (
    select walk_id, commit_id, stop_id, bound from int_walk_starts
),

walk(walk_id, commit_id, stop_id, bound) as (
    select walk_id, commit_id, stop_id, bound from starts
    union
    select w.walk_id, p.parent_id, w.stop_id, w.bound
    from walk w
    join int_commit_parents p on p.commit_id = w.commit_id
    where p.parent_id is distinct from w.stop_id
      and (w.bound is null or p.parent_committed_at >= w.bound)
),

reached as (
    select distinct walk_id, commit_id from walk
)

select walk_id as dep_idx, commit_id
from reached
