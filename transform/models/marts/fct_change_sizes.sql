-- materialized: view
-- The size of each change: lines_changed = additions + deletions when the
-- source sent both (NULL otherwise), and commits, the length of its
-- commit_shas (1 when the source lists none). A view, worked out only when
-- a query asks (failure-rate-by-size); the transform never builds it.
select
    change_id,
    additions,
    deletions,
    additions + deletions           as lines_changed,
    coalesce(commit_count, 1)       as commits
from stg_change_sizes
