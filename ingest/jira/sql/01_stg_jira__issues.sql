-- Staging: the live issues of every section, with the fields every mapping
-- reads, and the raw values of the configured fields (jira_conf) taken out
-- once here. Issues a full sync found gone are left out.
CREATE OR REPLACE TEMP TABLE stg_jira__issues AS
WITH
issues AS (
    SELECT query, key, project, payload, json_extract(payload, '$.fields') AS f
    FROM raw_jira_issues
    WHERE gone_at IS NULL
)
SELECT
    i.query,
    i.key,
    i.project,
    i.payload,
    json_extract_string(i.f, '$.summary')                     AS title,
    coalesce(json_extract_string(i.f, '$.summary'), '') || chr(10)
        || coalesce(json_extract_string(i.f, '$.description'), '') AS body,
    jira_ts(json_extract_string(i.f, '$.created'))            AS created_at,
    jira_ts(json_extract_string(i.f, '$.resolutiondate'))     AS resolved_at,
    json_extract_string(i.f, '$.status.name')                 AS status,
    json_extract_string(i.f, '$.status.statusCategory.key')   AS status_category,
    json_extract_string(i.f, '$.priority.name')               AS priority,
    json_extract_string(i.f, '$.resolution.name')             AS resolution,
    json_extract_string(i.f, '$.issuetype.name')              AS issue_type,
    coalesce(jira_person(json_extract(i.f, '$.reporter')), jira_person(json_extract(i.f, '$.creator'))) AS reporter,
    c.url || '/browse/' || i.key                              AS url,
    -- configured fields, as JSON (NULL when not configured)
    json_extract(i.f, '$.' || c.severity_field)               AS severity_json,
    json_extract(i.f, '$.' || coalesce(CASE WHEN i.query = 'support_tickets' THEN c.ticket_service_field ELSE c.service_field END,
                                       'components'))         AS service_json,
    json_extract(i.f, '$.' || c.deployment_field)             AS deployment_json,
    json_extract(i.f, '$.' || c.commit_field)                 AS commit_json,
    json_extract(i.f, '$.' || c.risk_field)                   AS risk_json,
    json_extract(i.f, '$.' || c.planned_start_field)          AS planned_start_json,
    json_extract(i.f, '$.' || c.planned_end_field)            AS planned_end_json,
    json_extract(i.f, '$.' || coalesce(c.services_field, 'components')) AS services_json,
    json_extract(i.f, '$.' || c.reviewed_field)               AS reviewed_json
FROM issues i
CROSS JOIN jira_conf c;
