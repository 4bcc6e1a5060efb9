-- incidents WHERE source = 'pagerduty'.
--   service:  sources.pagerduty.services by PagerDuty service id, else by
--             service name (case-insensitive), else the name in lower case.
--   severity: sources.pagerduty.severity by priority name, else by urgency;
--             else the built-in rule: priority P1 sev1, P2 sev2, P3 sev3,
--             P4 and P5 sev4; without such a priority, urgency high sev2
--             and low sev4; else sev3.
--   acknowledged_at / resolved_at: from the staging (log entries).
--   extra:    status, urgency, priority, url, incident number, PagerDuty
--             service id and name. Assignees stay in the raw payloads.
DELETE FROM incidents WHERE source = 'pagerduty';

INSERT INTO incidents (id, service, severity, title, opened_at, acknowledged_at, resolved_at,
    caused_by_deployment, root_cause_sha, is_false_positive, postmortem_url, customer_impact, extra, source)
WITH
staged AS (
    SELECT * FROM stg_pagerduty__incidents
),
mapped AS (
    SELECT
        s.*,
        coalesce(by_id.value, by_name.value,
                 nullif(lower(trim(s.pd_service_name)), ''), lower(s.pd_service_id), 'unknown') AS service,
        coalesce(
            by_priority.value,
            by_urgency.value,
            CASE
                WHEN regexp_matches(s.priority, '(?i)^\s*p[1-3]\s*$') THEN 'sev' || regexp_extract(s.priority, '([1-3])', 1)
                WHEN regexp_matches(s.priority, '(?i)^\s*p[45]\s*$') THEN 'sev4'
            END,
            CASE s.urgency WHEN 'high' THEN 'sev2' WHEN 'low' THEN 'sev4' END,
            'sev3') AS severity
    FROM staged s
    LEFT JOIN pagerduty_services by_id ON by_id.key = lower(s.pd_service_id)
    LEFT JOIN pagerduty_services by_name ON by_name.key = lower(trim(s.pd_service_name))
    LEFT JOIN pagerduty_severity by_priority ON by_priority.key = lower(trim(s.priority))
    LEFT JOIN pagerduty_severity by_urgency ON by_urgency.key = s.urgency
)
SELECT
    id,
    service,
    severity,
    title,
    opened_at,
    CASE WHEN coalesce(first_ack_at, current_ack_at) >= opened_at THEN coalesce(first_ack_at, current_ack_at) END AS acknowledged_at,
    CASE WHEN status = 'resolved' THEN coalesce(object_resolved_at, last_resolve_at) END AS resolved_at,
    NULL AS caused_by_deployment,
    NULL AS root_cause_sha,
    false AS is_false_positive,
    NULL AS postmortem_url,
    NULL AS customer_impact,
    json_object('status', status, 'urgency', urgency, 'priority', priority, 'url', url,
                'incident_number', incident_number, 'pagerduty_service_id', pd_service_id,
                'pagerduty_service', pd_service_name) AS extra,
    'pagerduty' AS source
FROM mapped;
