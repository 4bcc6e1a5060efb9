-- Every commit sha that identifies a change: its merge commit, its commits,
-- and its id when the change is itself a commit.
select change_id, service, merge_commit_sha as sha
from int_changes
where merge_commit_sha is not null
union all
select change_id, service, unnest(commit_shas) as sha
from int_changes
where len(commit_shas) > 0
union all
select change_id, service, change_id as sha
from int_changes
where regexp_full_match(change_id, '[0-9a-f]{7,40}')
