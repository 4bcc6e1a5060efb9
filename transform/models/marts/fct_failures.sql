-- Failed successful production deployments, one row each, with the
-- strongest reason (incident > root_cause_commit > rollback > hotfix >
-- revert > version_rollback > time_window), every linked incident, and
-- recovery: the earlier of the finish of the first later deployment that
-- rolled it back, fixed it, reverted it or rolled its version back, and
-- the resolution of its last linked incident (NULL while any is open).
-- Found here, from the data alone (each with its switch in cfg):
--   revert            a later deployment of the same service, finished
--                     within the attribution window, first shipped a
--                     change that reverts a change this one first shipped
--                     (int_change_reverts; metrics.failure_from_reverts)
--   version_rollback  the next deployment of the same service and
--                     environment runs an older version: semantic-version
--                     order when both versions parse ([v]MAJOR.MINOR[.PATCH]
--                     [-PRERELEASE][+BUILD], pre-releases below their
--                     release), else a version that service and environment
--                     ran before this deployment finished
--                     (metrics.failure_from_version_rollbacks)
-- test: unique(deployment_id)
-- test: not_null(deployment_id, service, finished_at, reason)
-- test: accepted_values(reason: incident, root_cause_commit, rollback, hotfix, revert, version_rollback, time_window)
-- test: relationships(deployment_id -> fct_deployments.deployment_id)
-- incremental: service
-- Joins as written: a join builds its hash table on the few failures,
-- restorers and revert pairs (on the right) and reads the deployments and
-- links (left) without hashing them.
-- join_order: as written
with

deployments as (
    select * from int_prod_deployments
),

incident_links as (
    select
        l.incident_id,
        l.deployment_id,
        l.reason,
        case l.reason when 'incident' then 1 when 'root_cause_commit' then 2 else 7 end as strength,
        i.resolved_at
    from int_incident_links l
    join stg_incidents i on i.incident_id = l.incident_id
),

settings as (
    select * from cfg
),

-- a revert's deployment and the deployment that first shipped the change
-- it reverts, when both are of one service and the revert came within
-- the attribution window
reverted as (
    select dc.deployment_id as target, dr.deployment_id, dr.finished_at
    from deployments dr
    join (
        select lr.dep_idx as revert_dep, dc.deployment_id, dc.service, dc.finished_at
        from int_first_links lr
        join (
            select lc.revert_row, dc.deployment_id, dc.service, dc.finished_at
            from deployments dc
            join (
                select v.revert_row, lc.dep_idx
                from int_first_links lc
                join int_change_reverts v on v.reverted_row = lc.change_row
            ) lc on lc.dep_idx = dc.dep_idx
        ) dc on dc.revert_row = lr.change_row
    ) dc on dc.revert_dep = dr.dep_idx
    cross join settings s
    where s.failure_from_reverts
      and dr.service = dc.service
      and dr.finished_at > dc.finished_at
      and dr.finished_at <= dc.finished_at + s.attribution_window
),

-- each deployment with its version's semantic-version key when it
-- parses: the numbers, then released above pre-release, then the
-- pre-release identifiers (numeric ones below alphanumeric ones, numbers
-- compared as numbers), which DuckDB's struct and list order compares as
-- semver does. A version whose numbers do not fit a hugeint does not
-- parse. (try_cast, not ::hugeint: DuckDB may cast the numbers of every
-- row, those the CASE leaves out included, and 2.0 does.)
parsed as (
    select
        deployment_id, service, environment, finished_at, version,
        case when m.major <> '' and list_count(core) = 3 then {
            core: core,
            released: m.pre = '',
            pre: list_transform(case when m.pre = '' then [] else string_split(m.pre, '.') end,
                                lambda x: {alpha: not regexp_full_match(x, '[0-9]+'), n: try_cast(x as hugeint), s: x})
        } end as semver
    from (
        select *,
               [try_cast(m.major as hugeint), try_cast(m.minor as hugeint),
                case when m.patch = '' then 0 else try_cast(m.patch as hugeint) end] as core
        from (
            select *,
                   regexp_extract(version, '^[vV]?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$',
                                  ['major', 'minor', 'patch', 'pre']) as m
            from deployments
        )
    )
),

-- the next deployment of the same service and environment, with its
-- version and key (one window, no join back to the versions)
sequenced as (
    select
        deployment_id,
        service,
        environment,
        finished_at,
        version,
        semver,
        lead(deployment_id) over w as next_id,
        lead(finished_at) over w   as next_finished_at,
        lead(version) over w       as next_version,
        lead(semver) over w        as next_semver
    from parsed
    window w as (partition by service, environment order by finished_at, deployment_id)
),

changed as (
    select q.*
    from sequenced q
    cross join settings s
    where s.failure_from_version_rollbacks
      and q.next_version <> q.version
),

-- where a version does not parse, a version that ran before counts: the
-- first time each of those next versions ran in the service and
-- environment (only the versions such a pair needs)
first_deployed as (
    select d.service, d.environment, d.version, min(d.finished_at) as first_at
    from deployments d
    semi join (select service, environment, next_version from changed
               where semver is null or next_semver is null) c
      on c.service = d.service and c.environment = d.environment and c.next_version = d.version
    group by d.service, d.environment, d.version
),

version_rollbacks as (
    select q.deployment_id as target, q.next_id as deployment_id, q.next_finished_at as finished_at
    from changed q
    where q.semver is not null and q.next_semver is not null and q.next_semver < q.semver
    union all
    select q.deployment_id, q.next_id, q.next_finished_at
    from changed q
    join first_deployed f
      on f.service = q.service and f.environment = q.environment and f.version = q.next_version
    where (q.semver is null or q.next_semver is null)
      and f.first_at < q.finished_at
),

restorers as (
    select r.rollback_of as target, r.deployment_id, r.finished_at, 'rollback' as reason, 3 as strength
    from deployments r
    where r.rollback_of is not null
    union all
    select r.hotfix_of, r.deployment_id, r.finished_at, 'hotfix', 4
    from deployments r
    where r.hotfix_of is not null
    union all
    select target, deployment_id, finished_at, 'revert', 5
    from reverted
    union all
    select target, deployment_id, finished_at, 'version_rollback', 6
    from version_rollbacks
    union all
    -- a hotfix naming an incident fixes the deployment the incident is blamed on
    select l.deployment_id, r.deployment_id, r.finished_at, null, null
    from deployments r
    join incident_links l on l.incident_id = r.hotfix_of
),

later_restorers as (
    select r.*
    from deployments t
    join restorers r on r.target = t.deployment_id
    where r.finished_at > t.finished_at
),

reasons as (
    select deployment_id, reason, strength, incident_id from incident_links
    union all
    select target, reason, strength, null from later_restorers where reason is not null
),

failed as (
    select
        deployment_id,
        arg_min(reason, strength) as reason,
        coalesce(list_sort(list(distinct incident_id) filter (where incident_id is not null)), []) as incident_ids
    from reasons
    group by deployment_id
),

restored as (
    select target as deployment_id, arg_min(deployment_id, finished_at) as restored_by_deployment, min(finished_at) as restored_at
    from later_restorers
    group by target
),

incidents_resolved as (
    select deployment_id, case when count(resolved_at) = count(*) then max(resolved_at) end as resolved_at
    from incident_links
    group by deployment_id
),

recovery as (
    select
        f.*,
        d.service,
        d.environment,
        d.finished_at,
        r.restored_by_deployment,
        case
            when r.restored_at is null then i.resolved_at
            when i.resolved_at is null then r.restored_at
            else least(r.restored_at, i.resolved_at)
        end as recovered_at
    from deployments d
    join failed f on f.deployment_id = d.deployment_id
    left join restored r on r.deployment_id = f.deployment_id
    left join incidents_resolved i on i.deployment_id = f.deployment_id
)

select
    r.deployment_id,
    r.service,
    s.team,
    r.environment,
    r.finished_at,
    r.reason,
    r.incident_ids,
    r.restored_by_deployment,
    r.recovered_at,
    (epoch_us(r.recovered_at) - epoch_us(r.finished_at)) / 3600e6 as recovery_hours
from recovery r
left join stg_services s on s.service = r.service
order by r.finished_at
