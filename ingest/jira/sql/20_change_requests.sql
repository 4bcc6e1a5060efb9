-- change_requests WHERE source = 'jira', from the change_requests section.
--   services: the services field (default components), every element, in
--             lower case; else the project key.
--   risk:     the risk field's value in emergency_values → emergency, in
--             standard_values → standard, a value that is itself standard /
--             normal / emergency → that, else normal.
--   status:   current status in rejected_statuses → rejected, in
--             cancelled_statuses → cancelled; status category done →
--             implemented; ever entered an approved status → approved;
--             else submitted.
--   implemented_at: for implemented requests, the resolution date, else
--             the last transition into the current status.
DELETE FROM change_requests WHERE source = 'jira';

INSERT INTO change_requests (id, services, title, risk, requested_by, created_at, planned_start, planned_end,
    status, implemented_at, reviewed_after_at, extra, source)
WITH
issues AS (
    SELECT * FROM stg_jira__issues WHERE query = 'change_requests'
),
transitions AS (
    SELECT * FROM stg_jira__status_changes WHERE query = 'change_requests'
),
approved AS (
    SELECT key, min(changed_at) AS approved_at
    FROM transitions
    WHERE lower(to_status) IN (SELECT value FROM jira_lists WHERE name = 'approved_statuses')
    GROUP BY key
),
fields AS (
    SELECT
        i.*,
        nullif(lower(trim(jira_text(risk_json))), '')  AS risk_value,
        jira_ts(jira_text(planned_start_json))        AS planned_start,
        jira_ts(jira_text(planned_end_json))          AS planned_end,
        jira_ts(jira_text(reviewed_json))             AS reviewed_after_at
    FROM issues i
),
services AS (
    SELECT key, list_filter(
        CASE json_type(services_json)
            WHEN 'ARRAY' THEN list_transform(from_json(services_json, '["JSON"]'), lambda x: lower(trim(jira_scalar(x))))
            ELSE [lower(trim(jira_scalar(services_json)))]
        END, lambda x: x IS NOT NULL AND x <> '') AS services
    FROM fields
),
last_entry AS (
    SELECT t.key, max(t.changed_at) AS entered_at
    FROM transitions t JOIN issues i ON i.key = t.key AND t.to_status = i.status
    GROUP BY t.key
),
classified AS (
    SELECT
        f.*,
        a.approved_at,
        CASE
            WHEN f.risk_value IN (SELECT value FROM jira_lists WHERE name = 'emergency_values') THEN 'emergency'
            WHEN f.risk_value IN (SELECT value FROM jira_lists WHERE name = 'standard_values') THEN 'standard'
            WHEN f.risk_value IN ('standard', 'normal', 'emergency') THEN f.risk_value
            ELSE 'normal'
        END AS risk,
        CASE
            WHEN lower(f.status) IN (SELECT value FROM jira_lists WHERE name = 'rejected_statuses') THEN 'rejected'
            WHEN lower(f.status) IN (SELECT value FROM jira_lists WHERE name = 'cancelled_statuses') THEN 'cancelled'
            WHEN f.status_category = 'done' THEN 'implemented'
            WHEN a.approved_at IS NOT NULL
              OR lower(f.status) IN (SELECT value FROM jira_lists WHERE name = 'approved_statuses') THEN 'approved'
            ELSE 'submitted'
        END AS cr_status
    FROM fields f
    LEFT JOIN approved a USING (key)
)
SELECT
    c.key                                                         AS id,
    CASE WHEN len(s.services) > 0 THEN s.services ELSE [lower(c.project)] END AS services,
    c.title,
    c.risk,
    coalesce(c.reporter, 'unknown')                               AS requested_by,
    c.created_at,
    c.planned_start,
    c.planned_end,
    c.cr_status                                                   AS status,
    CASE WHEN c.cr_status = 'implemented' THEN coalesce(c.resolved_at, l.entered_at) END AS implemented_at,
    c.reviewed_after_at,
    json_object('jira_url', c.url, 'status', c.status, 'approved_at', c.approved_at,
                'project', c.project)                             AS extra,
    'jira'                                                        AS source
FROM classified c
JOIN services s USING (key)
LEFT JOIN last_entry l USING (key);
