-- Teams, one row per team key (trimmed, lower-cased), with the display
-- name and department: every team a team record declares, and every team
-- a service names without one (its name is then the key).
-- test: unique(team)
-- test: not_null(team, team_name)
with

declared as (
    select team, team_name, department from stg_teams
),

named as (
    select distinct team from dim_services
)

select * from declared
union all
select n.team, n.team as team_name, null::varchar as department
from named n
anti join declared d on d.team = n.team
