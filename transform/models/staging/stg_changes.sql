-- Changes (pull requests or commits), one row per id (when several sources
-- send a change, the first source by name wins). service is a key, trimmed
-- and lower-cased like every service name. extra.files lists the paths a
-- change touched, used to place changes of a monorepo (its size is
-- stg_change_sizes'). message is extra.message: a commit message or
-- description a source sent beside the title (read for revert trailers).
-- change_row is the row's position in the changes table: an integer that
-- linking carries in place of the change's id (stable while the transform
-- runs, which reads the table in one transaction).
-- param: several_sources_changes bool 'false'
-- param: main_source_changes text null
select
    c.rowid                         as change_row,
    id                              as change_id,
    lower(trim(service))            as service,
    repo,
    title,
    author,
    commit_shas,
    merge_commit_sha,
    first_commit_at,
    opened_at,
    first_review_at,
    approved_at,
    merged_at,
    approvals,
    coalesce(is_revert, false)      as is_revert,
    labels,
    cast(extra -> '$.files' as varchar[]) as files,
    extra ->> '$.message'           as message
from changes c
-- one row per id: the first source by name wins (an anti join is cheaper
-- than a window over millions of rows)
anti join (
    -- the run value several_sources_changes says whether more than one
    -- source had sent changes when the run started: false (the usual case)
    -- leaves this side empty, and DuckDB drops the join from the plan. An
    -- id sent twice was sent by a source other than the one that sent the
    -- most (main_source_changes): only those ids are hashed
    select id, source from changes
    where getvariable('several_sources_changes')
      and id in (select id from changes where source <> getvariable('main_source_changes'))
) other on other.id = c.id and other.source < c.source
