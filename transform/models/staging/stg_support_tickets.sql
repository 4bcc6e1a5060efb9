-- Support tickets, one row per id.
select
    id          as ticket_id,
    service,
    created_at,
    resolved_at,
    priority,
    category,
    version,
    incident
from support_tickets
qualify row_number() over (partition by id order by source) = 1
