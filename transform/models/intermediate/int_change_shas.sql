-- materialized: view
-- Every commit sha that identifies a change: its merge commit, its commits,
-- and its id when the change is itself a commit (one scan of the changes).
select
    change_row,
    change_id,
    service,
    unnest(
        case when merge_commit_sha is not null then [merge_commit_sha] else [] end
        || coalesce(commit_shas, [])
        || case when regexp_full_match(change_id, '[0-9a-f]{7,40}') then [change_id] else [] end
    ) as sha
from int_changes
