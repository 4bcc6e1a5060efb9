-- Teams, one row per id (when several sources send a team, the first source
-- by name wins).
select
    id                          as team,
    coalesce(name, id)          as team_name,
    department
from teams
qualify row_number() over (partition by id order by source) = 1
