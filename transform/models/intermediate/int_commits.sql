-- One row per commit sha with an integer id, so that the commit-graph walk
-- joins and deduplicates integers rather than strings. The id is the
-- first of the sha's rows in stg_commits (commit_row): the edges of a sha
-- sent once, most of them, then carry their child's id without looking
-- it up (int_commit_parents); has_copies marks a sha sent more than once,
-- whose other rows are looked up. When several sources send the same
-- commit with different times, the walk may pass the commit if any copy
-- is recent enough (latest_committed_at), and a walk bounded by it starts
-- from the least restrictive copy (earliest_committed_at;
-- has_untimed_copy when a copy has no time).
select
    min(commit_row)                     as commit_id,
    sha,
    max(committed_at)                   as latest_committed_at,
    min(committed_at)                   as earliest_committed_at,
    count(committed_at) < count(*)      as has_untimed_copy,
    count(*) > 1                        as has_copies
from stg_commits
group by sha
