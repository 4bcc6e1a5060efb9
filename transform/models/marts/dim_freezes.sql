-- The configured freezes (calendar.freezes), resolved to instants in each
-- freeze's time zone when the transform ran: a freeze covers [start_at,
-- end_at) and applies to the services listed (keys), or to every service
-- when none is.
-- test: not_null(name, start_at, end_at)
select
    f.name,
    f.start_at,
    f.end_at,
    coalesce(f.services, []::varchar[]) as services
from (select unnest(freezes) as f from cfg)
order by f.start_at, f.name
