-- name: deployer-not-allowed
-- description: Production deployments triggered by someone outside the service's allowed deployers
-- audience: audit
-- kind: control
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: production text 'production,prod'
--
-- Subject: one production deployment (success or failure) finished in
-- [from, to) of a service that lists allowed_deployers; a service with no
-- list puts no restriction on who deploys it and is not examined. People
-- compare case-insensitively.
with services_one as (
    select s.id, s.allowed_deployers
    from services s
    qualify row_number() over (partition by s.id order by s.source) = 1
),
checked as (
    select d.id, d.service, d.environment, d.status, d.version, d.triggered_by, d.finished_at,
           s.allowed_deployers
    from deployments d
    join services_one s on s.id = d.service
    where list_contains(list_transform(string_split($production, ','), e -> trim(e)), d.environment)
      and d.status in ('success', 'failure')
      and d.finished_at >= $from and d.finished_at < $to
      and len(coalesce(s.allowed_deployers, []::varchar[])) > 0
)
select id as subject,
       id as deployment_id, service, environment, status, version, finished_at,
       triggered_by, allowed_deployers,
       case
           when triggered_by is null then 'deployment with no recorded trigger'
           when not list_contains(list_transform(allowed_deployers, x -> lower(trim(x))), lower(trim(triggered_by)))
           then triggered_by || ' is not an allowed deployer'
       end as rule
from checked
order by finished_at, id
