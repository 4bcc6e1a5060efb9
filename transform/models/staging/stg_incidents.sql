-- Incidents, one row per id (the first source by name wins); service is a
-- key (trimmed, lower-cased). Two fields that are not canonical are lifted
-- from extra here, the one place that reads it: who acknowledged the
-- incident (extra.acknowledged_by, else responder, else assignee, as Jira
-- and pager exports carry it) and its cause as the source states it
-- (extra.cause, else category, else root_cause).
-- test: accepted_values(severity: sev1, sev2, sev3, sev4)
select
    id                                  as incident_id,
    lower(trim(service))                as service,
    severity,
    title,
    opened_at,
    acknowledged_at,
    resolved_at,
    nullif(trim(caused_by_deployment), '') as caused_by_deployment,
    nullif(trim(root_cause_sha), '')       as root_cause_sha,
    coalesce(is_false_positive, false)  as is_false_positive,
    coalesce(nullif(extra ->> 'acknowledged_by', ''),
             nullif(extra ->> 'responder', ''),
             nullif(extra ->> 'assignee', ''))      as acknowledged_by,
    coalesce(nullif(extra ->> 'cause', ''),
             nullif(extra ->> 'category', ''),
             nullif(extra ->> 'root_cause', ''))    as stated_cause
from incidents
qualify row_number() over (partition by id order by source) = 1
