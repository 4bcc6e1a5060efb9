-- Release plans, one row per id (the first source by name wins). service
-- and environment are keys (trimmed, lower-cased); a plan that names no
-- environment is a plan for production (see fct_release_plans).
select
    id                                  as plan_id,
    lower(trim(service))                as service,
    version,
    planned_at,
    window_start,
    window_end,
    lower(nullif(trim(environment), '')) as environment
from release_plans
qualify row_number() over (partition by id order by source) = 1
