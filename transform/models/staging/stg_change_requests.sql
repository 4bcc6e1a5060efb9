-- Change requests, one row per id (the first source by name wins). The
-- services it names are keys (trimmed, lower-cased, like every service);
-- the requester is trimmed, with requested_by_key lower-cased for comparing
-- people. url links to the source record: extra.url (a canonical file
-- may carry one), else extra.jira_url (the Jira mapping's browse link).
-- test: accepted_values(risk: standard, normal, emergency)
-- test: accepted_values(status: draft, submitted, approved, rejected, implemented, cancelled)
select
    id                                  as change_request,
    list_transform(services, lambda x: lower(trim(x))) as services,
    title,
    risk,
    trim(requested_by)                  as requested_by,
    lower(trim(requested_by))           as requested_by_key,
    created_at,
    planned_start,
    planned_end,
    status,
    implemented_at,
    reviewed_after_at,
    nullif(trim(coalesce(extra ->> 'url', extra ->> 'jira_url')), '') as url
from change_requests
qualify row_number() over (partition by id order by source) = 1
