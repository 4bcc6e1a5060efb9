-- Services with their team and department. Services that deployments,
-- changes or incidents name but no service record declares are listed too,
-- with team 'unassigned', so that their events are not silently dropped.
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
        s.depends_on
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
        []::varchar[]     as depends_on
    from named n
    anti join declared d on d.service = n.service
)

select * from declared
union all
select * from undeclared
