-- name: outside-window
-- description: Production deployments outside their change request's planned window, or inside a configured freeze
-- audience: audit
-- kind: control
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: production text 'production,prod'
-- param: freezes text '[]'
--
-- Subject: one production deployment (success or failure) finished in
-- [from, to). Inside the planned window means started (finished, when no
-- start is recorded) at or after planned_start and finished at or before
-- planned_end; a request without a planned window is not checked for it.
-- freezes is a JSON list of {name, start, end, services} with RFC 3339
-- instants (shiplog audit builds it from calendar.freezes, resolving each
-- freeze's time zone); a freeze with no services applies to all. A
-- deployment is inside a freeze when it ran at any moment in [start, end).
with deploys as (
    select d.id, d.service, d.environment, d.version, d.triggered_by, d.change_request,
           coalesce(d.started_at, d.finished_at) as started_at, d.finished_at
    from deployments d
    where list_contains(list_transform(string_split($production, ','), e -> trim(e)), d.environment)
      and d.status in ('success', 'failure')
      and d.finished_at >= $from and d.finished_at < $to
),
freezes as (
    select f.name, f.start as freeze_start, f."end" as freeze_end, coalesce(f.services, []::varchar[]) as services
    from (select unnest(from_json($freezes,
            '[{"name":"VARCHAR","start":"TIMESTAMPTZ","end":"TIMESTAMPTZ","services":"VARCHAR[]"}]')) as f)
),
window_findings as (
    select d.id, 'outside the planned window of ' || cr.id as rule,
           cr.planned_start, cr.planned_end, null::varchar as freeze
    from deploys d
    join change_requests cr on cr.id = d.change_request
    where cr.planned_start is not null and cr.planned_end is not null
      and (d.started_at < cr.planned_start or d.finished_at > cr.planned_end)
),
freeze_findings as (
    select d.id, 'inside the freeze ' || f.name as rule,
           null::timestamptz as planned_start, null::timestamptz as planned_end, f.name as freeze
    from deploys d
    join freezes f
      on d.started_at < f.freeze_end and d.finished_at >= f.freeze_start
     and (len(f.services) = 0 or list_contains(f.services, d.service))
),
findings as (
    select * from window_findings
    union all
    select * from freeze_findings
)
select d.id as subject,
       d.id as deployment_id, d.service, d.environment, d.version, d.triggered_by,
       d.started_at, d.finished_at, d.change_request,
       f.planned_start, f.planned_end, f.freeze, f.rule
from deploys d
left join findings f on f.id = d.id
order by d.finished_at, d.id, f.rule
