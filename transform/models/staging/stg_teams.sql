-- Teams, one row per id (when several sources send a team, the first
-- source by name wins). The id is a key (trimmed, lower-cased), team_name
-- the display name (the id as sent when the record has none).
select
    lower(trim(id))                     as team,
    coalesce(nullif(trim(name), ''), trim(id)) as team_name,
    department
from teams
qualify row_number() over (partition by lower(trim(id)) order by source, id) = 1
