-- Successful production deployments (only the columns the later models
-- read) with their predecessor in the service's sequence (ordered by
-- finish) and the linking rule that applies to each:
-- a change list, even an empty one (the deployment says it shipped
-- nothing) → explicit; else a commit_sha known to the commit graph →
-- commit_graph; else → time. This is the one place that decides what
-- "successful production deployment" means: status success and an
-- environment key among the configured production names (both sides
-- trimmed and lower-cased). commit_id and prev_commit_id are the
-- commits' ids in int_commits (NULL when the graph does not know the sha),
-- with the previous commit's earliest time and untimed flag for the walk;
-- dep_idx numbers the rows, so that linking carries an integer, not the id.
-- Joins as written: the commit lookup hashes the deployments' shas and
-- reads every commit once, rather than hashing every commit.
-- join_order: as written
with

settings as (
    select * from cfg
),

deployments as (
    select
        d.deployment_id,
        d.service,
        d.environment,
        d.start_ts,
        d.finished_at,
        d.version,
        d.commit_sha,
        d.changes,
        d.rollback_of,
        d.hotfix_of
    from stg_deployments d
    cross join settings s
    where d.status = 'success'
      and list_contains(s.production_environments, d.environment)
),

sequenced as (
    select
        d.*,
        c.commit_id,
        lag(d.start_ts) over w   as prev_start_ts,
        lag(d.commit_sha) over w as prev_commit_sha,
        lag(c.commit_id) over w  as prev_commit_id,
        lag(c.earliest_committed_at) over w as prev_earliest_committed_at,
        lag(c.has_untimed_copy) over w      as prev_has_untimed_copy
    from int_commits c
    right join deployments d on d.commit_sha = c.sha
    window w as (partition by d.service order by d.finished_at, d.deployment_id)
)

select
    s.*,
    row_number() over ()::integer as dep_idx,
    case
        when s.changes is not null then 'explicit'
        when s.commit_id is not null then 'commit_graph'
        else 'time'
    end as link_rule
from sequenced s
