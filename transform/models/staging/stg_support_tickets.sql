-- Support tickets, one row per id (when several sources send a ticket, the
-- first source by name wins); service is a key (trimmed, lower-cased).
-- param: several_sources_support_tickets bool 'false'
-- param: main_source_support_tickets text null
select
    id          as ticket_id,
    lower(trim(service)) as service,
    created_at,
    resolved_at,
    priority,
    category,
    version,
    incident
from support_tickets t
-- the same anti join on run values as stg_changes: with one source the
-- other side is empty and DuckDB drops the join; with several, only the
-- ids the sources other than the main one sent are hashed
anti join (
    select id, source from support_tickets
    where getvariable('several_sources_support_tickets')
      and id in (select id from support_tickets where source <> getvariable('main_source_support_tickets'))
) other on other.id = t.id and other.source < t.source
