-- incidents WHERE source = 'jira', from the issues of the incidents section.
--   severity: the severity field through severity_values, else a value such
--             as "SEV-1", "S2", "P3" or "1 - Critical" read as its digit,
--             else the priority through priority_severities, else sev3
--             (Jira's default priority is Medium).
--   service:  the service field (default components; a list gives its
--             first element), else the project key; lower case.
--   acknowledged_at: the first status transition (out of the initial status).
--   caused_by_deployment / root_cause_sha: the configured fields, else (with
--             text_links) "deployment: ID" / "deploy #ID" and
--             "commit: SHA" / "sha SHA" (7-40 hex digits) in the summary or
--             description. A bare id or hex word without its keyword is not
--             taken: ticket text is full of numbers and hex-like words.
DELETE FROM incidents WHERE source = 'jira';

INSERT INTO incidents (id, service, severity, title, opened_at, acknowledged_at, resolved_at,
    caused_by_deployment, root_cause_sha, is_false_positive, postmortem_url, customer_impact, extra, source)
WITH
issues AS (
    SELECT * FROM stg_jira__issues WHERE query = 'incidents'
),
first_transition AS (
    SELECT key, min(changed_at) AS acknowledged_at
    FROM stg_jira__status_changes WHERE query = 'incidents'
    GROUP BY key
),
fields AS (
    SELECT
        i.*,
        nullif(trim(jira_text(severity_json)), '')          AS severity_value,
        nullif(lower(trim(jira_text(service_json))), '')    AS service_value,
        nullif(trim(jira_text(deployment_json)), '')        AS deployment_value,
        nullif(lower(trim(jira_text(commit_json))), '')     AS commit_value,
        CASE WHEN c.text_links THEN nullif(rtrim(regexp_extract(body,
            '(?i)\bdeploy(?:ment)?(?:\s+id)?\s*[:#]\s*([A-Za-z0-9][A-Za-z0-9._:/-]*)', 1), '.:/-'), '') END AS deployment_text,
        CASE WHEN c.text_links THEN nullif(lower(regexp_extract(body,
            '(?i)\b(?:commit|sha)\s*[:#]?\s*([0-9a-f]{7,40})\b', 1)), '') END AS commit_text
    FROM issues i
    CROSS JOIN jira_conf c
),
severities AS (
    SELECT
        f.key,
        coalesce(
            sv.value,
            CASE WHEN regexp_matches(f.severity_value, '(?i)^\s*(?:sev(?:erity)?|s|p)?[\s_-]*[1-4](?:\D.*)?$')
                 THEN 'sev' || regexp_extract(f.severity_value, '([1-4])', 1) END,
            ps.value,
            'sev3') AS severity
    FROM fields f
    LEFT JOIN jira_maps sv ON sv.name = 'severity_values' AND sv.key = lower(f.severity_value)
    LEFT JOIN jira_maps ps ON ps.name = 'priority_severities' AND ps.key = lower(f.priority)
)
SELECT
    f.key                                              AS id,
    coalesce(f.service_value, lower(f.project))        AS service,
    s.severity,
    f.title,
    f.created_at                                       AS opened_at,
    t.acknowledged_at,
    f.resolved_at,
    coalesce(f.deployment_value,
        CASE WHEN regexp_matches(f.deployment_text, '[0-9]') THEN f.deployment_text END) AS caused_by_deployment,
    coalesce(f.commit_value, f.commit_text)            AS root_cause_sha,
    coalesce(lower(f.resolution) IN (SELECT value FROM jira_lists WHERE name = 'false_positive_resolutions'), false) AS is_false_positive,
    NULL                                               AS postmortem_url,
    NULL                                               AS customer_impact,
    json_object('jira_url', f.url, 'status', f.status, 'priority', f.priority,
                'resolution', f.resolution, 'project', f.project) AS extra,
    'jira'                                             AS source
FROM fields f
JOIN severities s USING (key)
LEFT JOIN first_transition t USING (key);
