-- Changes (pull requests or commits), one row per id (when several sources
-- send a change, the first source by name wins). extra.files lists the
-- paths a change touched, used to place changes of a monorepo.
with

renamed as not materialized (
    select
        id                              as change_id,
        service,
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
        id,
        source
    from changes
),

first_source as (
    select min(source) as source from changes
)

-- One row per id, the first source by name winning. Rows of the first
-- source always win; only rows of a later source go through the anti join,
-- against rows of a source that sorts before another. With one source (the
-- usual case) both sides of the join are empty, whichever side DuckDB
-- chooses to build its hash table on.
select * exclude (id, source)
from renamed
where source = (select source from first_source)
union all
select r.* exclude (id, source)
from renamed r
anti join (
    select id, source from changes
    where source < (select max(source) from changes)
) other on other.id = r.id and other.source < r.source
where r.source > (select source from first_source)
