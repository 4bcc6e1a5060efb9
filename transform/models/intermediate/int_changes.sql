-- materialized: view
-- Each change once (stg_changes), in the service it belongs to: its own, or
-- for a change of a monorepo the one int_change_placements found; then the
-- commit-level changes of services whose lead time is per commit
-- (int_commit_changes, is_commit true: no title, no pull request times). A view:
-- each reader scans only the columns it needs from the canonical table,
-- which costs less than keeping seven million wide rows in memory.
select
    c.change_row,
    c.change_id,
    coalesce(p.service, c.service) as service,
    c.repo,
    c.title,
    c.author,
    c.commit_shas,
    c.merge_commit_sha,
    c.first_commit_at,
    c.opened_at,
    c.first_review_at,
    c.approved_at,
    c.merged_at,
    c.approvals,
    c.is_revert,
    c.message,
    false as is_commit
from stg_changes c
left join int_change_placements p on p.change_id = c.change_id
union all
select
    change_row,
    change_id,
    service,
    repo,
    null::varchar       as title,
    author,
    [change_id]         as commit_shas,
    null::varchar       as merge_commit_sha,
    first_commit_at,
    null::timestamptz   as opened_at,
    null::timestamptz   as first_review_at,
    null::timestamptz   as approved_at,
    null::timestamptz   as merged_at,
    null::bigint        as approvals,
    false               as is_revert,
    null::varchar       as message,
    true                as is_commit
from int_commit_changes
