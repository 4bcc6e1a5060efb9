-- Incidents, one row per id.
-- test: accepted_values(severity: sev1, sev2, sev3, sev4)
select
    id                                  as incident_id,
    service,
    severity,
    title,
    opened_at,
    acknowledged_at,
    resolved_at,
    caused_by_deployment,
    root_cause_sha,
    coalesce(is_false_positive, false)  as is_false_positive
from incidents
qualify row_number() over (partition by id order by source) = 1
