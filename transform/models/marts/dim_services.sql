-- Services with their team and department, one row per service key
-- (trimmed, lower-cased: the same service however a source spelled it).
-- Services that deployments or incidents name but no service record
-- declares are listed too, with team 'unassigned', so that their events
-- are not silently dropped. The people lists are as declared (trimmed),
-- with lower-cased *_keys beside them for comparing people.
-- test: unique(service)
-- test: not_null(service, team)
with

declared as (
    select
        s.service,
        s.name,
        s.team,
        coalesce(t.team_name, s.team) as team_name,
        t.department,
        s.tier,
        s.repo,
        s.depends_on,
        s.release_managers,
        s.rollback_authority,
        s.allowed_deployers,
        s.release_manager_keys,
        s.rollback_authority_keys,
        s.allowed_deployer_keys
    from stg_services s
    left join stg_teams t on t.team = s.team
),

named as (
    select distinct service from stg_deployments
    union
    select distinct service from stg_incidents
),

undeclared as (
    select
        n.service,
        n.service         as name,
        'unassigned'      as team,
        'unassigned'      as team_name,
        null::varchar     as department,
        null::bigint      as tier,
        null::varchar     as repo,
        []::varchar[]     as depends_on,
        null::varchar[]   as release_managers,
        null::varchar[]   as rollback_authority,
        null::varchar[]   as allowed_deployers,
        []::varchar[]     as release_manager_keys,
        []::varchar[]     as rollback_authority_keys,
        []::varchar[]     as allowed_deployer_keys
    from named n
    anti join declared d on d.service = n.service
)

select * from declared
union all
select * from undeclared
