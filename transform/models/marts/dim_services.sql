-- Services with their team and department, one row per service key
-- (trimmed, lower-cased: the same service however a source spelled it).
-- Services that deployments or incidents name but no service record
-- declares are listed too, with team 'unassigned', so that their events
-- are not silently dropped. The people lists are as declared (trimmed),
-- with lower-cased *_keys beside them for comparing people.
-- allowed_deployers adds, to what the service record declares, the
-- deployers of every controls.allowed_deployers entry whose service glob
-- matches the service key or whose team glob matches its team key (cfg),
-- in the order configured, each person once.
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
),

services as (
    select * from declared
    union all
    select * from undeclared
),

configured as (
    select s.service,
           flatten(list(c.e.deployers order by c.pos)) as deployers
    from services s
    join (select unnest(allowed_deployers) as e, generate_subscripts(allowed_deployers, 1) as pos from cfg) c
      on (c.e.service is not null and s.service glob c.e.service)
      or (c.e.team is not null and lower(trim(s.team)) glob c.e.team)
    group by s.service
),

merged as (
    select s.*,
           list_concat(coalesce(s.allowed_deployers, []::varchar[]), c.deployers) as merged_deployers,
           c.service is not null as has_configured
    from services s
    left join configured c on c.service = s.service
)

-- each person once, in order (the first spelling of a person wins)
select * exclude (merged_deployers, has_configured) replace (
           case when not has_configured then allowed_deployers
                else list_filter(merged_deployers, lambda x, i:
                         list_position(list_transform(merged_deployers, lambda y: lower(trim(y))), lower(trim(x))) = i) end
               as allowed_deployers,
           case when not has_configured then allowed_deployer_keys
                else list_filter(list_transform(merged_deployers, lambda y: lower(trim(y))), lambda x, i:
                         list_position(list_transform(merged_deployers, lambda y: lower(trim(y))), x) = i) end
               as allowed_deployer_keys
       )
from merged
