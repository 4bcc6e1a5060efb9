-- name: rollback-authority
-- description: Production rollbacks triggered by someone outside the service's rollback authority
-- audience: audit
-- kind: control
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: production text 'production,prod'
--
-- Subject: one production rollback (is_rollback, or rollback_of set) that
-- finished in [from, to), whatever its status. The authority is the
-- service's rollback_authority; the entry "release_managers" (or
-- "release_manager") stands for the service's release_managers. A service
-- with no rollback_authority falls back to its release_managers; with
-- neither, every rollback is a finding. People compare case-insensitively.
with services_one as (
    select s.id, s.rollback_authority, s.release_managers
    from services s
    qualify row_number() over (partition by s.id order by s.source) = 1
),
rollbacks as (
    select d.*
    from deployments d
    where list_contains(list_transform(string_split($production, ','), e -> trim(e)), d.environment)
      and (coalesce(d.is_rollback, false) or d.rollback_of is not null)
      and d.finished_at >= $from and d.finished_at < $to
),
checked as (
    select r.id, r.service, r.environment, r.status, r.version, r.triggered_by, r.rollback_of,
           r.finished_at, s.rollback_authority, s.release_managers,
           list_transform(
               list_concat(
                   coalesce(s.rollback_authority, []::varchar[]),
                   case when len(coalesce(s.rollback_authority, []::varchar[])) = 0
                          or list_has_any(s.rollback_authority, ['release_managers', 'release_manager'])
                        then coalesce(s.release_managers, []::varchar[]) else []::varchar[] end),
               x -> lower(trim(x))) as allowed
    from rollbacks r
    left join services_one s on s.id = r.service
)
select id as subject,
       id as deployment_id, service, environment, status, version, rollback_of,
       finished_at, triggered_by, rollback_authority, release_managers,
       case
           when len(allowed) = 0 then 'service ' || service || ' names no rollback authority'
           when triggered_by is null then 'rollback with no recorded trigger'
           when not list_contains(allowed, lower(trim(triggered_by))) then triggered_by || ' is outside the rollback authority'
       end as rule
from checked
order by finished_at, id
