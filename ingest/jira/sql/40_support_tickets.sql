-- support_tickets WHERE source = 'jira', from the support_tickets section.
--   service:  the service field (default components), else the project key; lower case.
--   priority: the priority name; category: the issue type.
--   version:  the first affected version.
--   incident: the first linked issue (either direction) that is a Jira incident.
DELETE FROM support_tickets WHERE source = 'jira';

INSERT INTO support_tickets (id, service, created_at, resolved_at, priority, category, version, incident, extra, source)
WITH
tickets AS (
    SELECT * FROM stg_jira__issues WHERE query = 'support_tickets'
),
incident_keys AS (
    SELECT key FROM stg_jira__issues WHERE query = 'incidents'
),
links AS (
    SELECT key, unnest(from_json(json_extract(payload, '$.fields.issuelinks'), '["JSON"]')) AS link FROM tickets
),
linked_incident AS (
    SELECT l.key, min(coalesce(json_extract_string(l.link, '$.inwardIssue.key'), json_extract_string(l.link, '$.outwardIssue.key'))) AS incident
    FROM links l
    WHERE coalesce(json_extract_string(l.link, '$.inwardIssue.key'), json_extract_string(l.link, '$.outwardIssue.key')) IN (SELECT key FROM incident_keys)
    GROUP BY l.key
)
SELECT
    t.key                                                                           AS id,
    coalesce(nullif(lower(trim(jira_text(t.service_json))), ''), lower(t.project))                                                      AS service,
    t.created_at,
    t.resolved_at,
    t.priority,
    t.issue_type                                                                    AS category,
    json_extract_string(t.payload, '$.fields.versions[0].name')                                         AS version,
    li.incident,
    json_object('jira_url', t.url, 'status', t.status, 'title', t.title, 'project', t.project) AS extra,
    'jira'                                                                          AS source
FROM tickets t
LEFT JOIN linked_incident li USING (key);
