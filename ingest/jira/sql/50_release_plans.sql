-- release_plans WHERE source = 'jira', one per fix version with a release
-- date, of the projects under releases.
--   id:       PROJECT/version name (unique within a project).
--   service:  releases.services[PROJECT], else the project key in lower case.
--   planned_at: the release date; window_start: the start date. Both are
--             whole days in Jira and are stored as midnight UTC.
DELETE FROM release_plans WHERE source = 'jira';

INSERT INTO release_plans (id, service, version, planned_at, window_start, window_end, environment, extra, source)
SELECT
    v.project || '/' || (json_extract_string(v.payload, 'name'))           AS id,
    coalesce(m.value, lower(v.project))                AS service,
    json_extract_string(v.payload, 'name')                                 AS version,
    jira_ts(json_extract_string(v.payload, 'releaseDate'))                 AS planned_at,
    jira_ts(json_extract_string(v.payload, 'startDate'))                   AS window_start,
    NULL                                               AS window_end,
    NULL                                               AS environment,
    json_object('jira_version_id', v.id, 'released', (json_extract_string(v.payload, 'released'))::BOOLEAN,
                'archived', (json_extract_string(v.payload, 'archived'))::BOOLEAN, 'description', json_extract_string(v.payload, 'description')) AS extra,
    'jira'                                             AS source
FROM raw_jira_versions v
LEFT JOIN jira_maps m ON m.name = 'release_services' AND m.key = lower(v.project)
WHERE json_extract_string(v.payload, 'releaseDate') IS NOT NULL;
