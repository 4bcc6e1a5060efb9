-- Services, one row per id.
select
    id                          as service,
    coalesce(name, id)          as name,
    team,
    tier,
    repo,
    coalesce(paths, [])         as paths,
    coalesce(depends_on, [])    as depends_on
from services
qualify row_number() over (partition by id order by source) = 1
