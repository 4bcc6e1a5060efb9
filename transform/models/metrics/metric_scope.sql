-- The services a metric call covers, with the key of each at the call's
-- level: the service itself, its team, its department ('(none)' when its
-- team has none) or 'all' for the organisation. Empty service and team
-- lists mean every one; names in them are compared as keys (trimmed,
-- lower-cased), as staging keys the data. Every other metric macro starts
-- from this.
-- materialized: table_macro
-- arguments: level, services := [], teams := []
select
    s.service,
    s.team,
    s.department,
    case level when 'team' then s.team
               when 'department' then coalesce(s.department, '(none)')
               when 'org' then 'all'
               else s.service end as key
from dim_services s
where (coalesce(len(services), 0) = 0 or list_contains(list_transform(services::varchar[], lambda x: lower(trim(x))), s.service))
  and (coalesce(len(teams), 0) = 0 or list_contains(list_transform(teams::varchar[], lambda x: lower(trim(x))), s.team))
