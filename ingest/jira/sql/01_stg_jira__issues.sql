-- Staging: the live issues of every section, with the fields every mapping
-- reads, and the raw values of the configured fields taken out once here.
-- Each payload is parsed once: json_extract with a list of paths. The paths
-- of the configured fields are run values ('$.fields.ID'; an unset field
-- reads a path that never exists), read with getvariable so that the list
-- is a constant when DuckDB plans it. Issues a full sync found gone are
-- left out.
-- param: severity_path text '$.shiplog_unset_field'
-- param: service_path text '$.shiplog_unset_field'
-- param: ticket_service_path text '$.shiplog_unset_field'
-- param: deployment_path text '$.shiplog_unset_field'
-- param: commit_path text '$.shiplog_unset_field'
-- param: risk_path text '$.shiplog_unset_field'
-- param: planned_start_path text '$.shiplog_unset_field'
-- param: planned_end_path text '$.shiplog_unset_field'
-- param: services_path text '$.shiplog_unset_field'
-- param: reviewed_path text '$.shiplog_unset_field'
CREATE OR REPLACE TEMP TABLE stg_jira__issues AS
WITH
parsed AS (
    SELECT query, key, project, payload,
        json_extract(payload, [
            '$.fields.summary', '$.fields.description', '$.fields.created', '$.fields.resolutiondate',
            '$.fields.status.name', '$.fields.status.statusCategory.key', '$.fields.priority.name',
            '$.fields.resolution.name', '$.fields.issuetype.name', '$.fields.reporter', '$.fields.creator',
            getvariable('severity_path'), getvariable('service_path'), getvariable('ticket_service_path'), getvariable('deployment_path'),
            getvariable('commit_path'), getvariable('risk_path'), getvariable('planned_start_path'), getvariable('planned_end_path'),
            getvariable('services_path'), getvariable('reviewed_path')
        ]) AS v
    FROM raw_jira_issues
    WHERE gone_at IS NULL
)
SELECT
    p.query,
    p.key,
    p.project,
    p.payload,
    json_extract_string(v[1], '$')                                AS title,
    coalesce(json_extract_string(v[1], '$'), '') || chr(10)
        || coalesce(json_extract_string(v[2], '$'), '')           AS body,
    jira_ts(json_extract_string(v[3], '$'))                       AS created_at,
    jira_ts(json_extract_string(v[4], '$'))                       AS resolved_at,
    json_extract_string(v[5], '$')                                AS status,
    json_extract_string(v[6], '$')                                AS status_category,
    json_extract_string(v[7], '$')                                AS priority,
    json_extract_string(v[8], '$')                                AS resolution,
    json_extract_string(v[9], '$')                                AS issue_type,
    coalesce(jira_person(v[10]), jira_person(v[11]))              AS reporter,
    c.url || '/browse/' || p.key                                  AS url,
    -- configured fields, as JSON (NULL when not configured or absent)
    v[12]                                                         AS severity_json,
    CASE WHEN p.query = 'support_tickets' THEN v[14] ELSE v[13] END AS service_json,
    v[15]                                                         AS deployment_json,
    v[16]                                                         AS commit_json,
    v[17]                                                         AS risk_json,
    v[18]                                                         AS planned_start_json,
    v[19]                                                         AS planned_end_json,
    v[20]                                                         AS services_json,
    v[21]                                                         AS reviewed_json
FROM parsed p
CROSS JOIN jira_conf c;
