-- incidents WHERE source = 'cdevents', one per subject id of the
-- incident.detected / reported / resolved events.
--   opened_at:   the first detected or reported event.
--   resolved_at: the last resolved event, when it is not older than the last
--                detected or reported one (a later detection reopens).
--   service:     of the first opening event (see the staging).
--   severity:    customData.severity (else priority) of the first opening
--                event that has one, else sources.cdevents.default_severity.
--   title:       the first opening event's description.
--   extra:       ticket_uri (incident.reported), environment, artifact and
--                the resolution's description.
-- The rows go to cdevents_out_incidents; source.go writes them.

-- The events an incident is built from; its id is their subject_id (a
-- delivery maps again the incidents of the subjects it stored).
CREATE OR REPLACE TEMP VIEW cdevents_incident_events AS
SELECT *, event <> 'incident.resolved' AS opens
FROM stg_cdevents__events
WHERE event IN ('incident.detected', 'incident.reported', 'incident.resolved');

INSERT INTO cdevents_out_incidents (id, service, severity, title, opened_at, acknowledged_at, resolved_at,
    caused_by_deployment, root_cause_sha, is_false_positive, postmortem_url, customer_impact, extra, source)
WITH
events AS (
    SELECT * FROM cdevents_incident_events
),
per_incident AS (
    SELECT
        subject_id AS id,
        min(timestamp) FILTER (WHERE opens)                                        AS opened_at,
        max(timestamp) FILTER (WHERE opens)                                        AS last_opened_at,
        max(timestamp) FILTER (WHERE NOT opens)                                    AS last_resolved_at,
        arg_min(service, timestamp) FILTER (WHERE opens)                           AS service,
        arg_min(description, timestamp) FILTER (WHERE opens AND description IS NOT NULL) AS title,
        arg_min(severity, timestamp) FILTER (WHERE opens AND severity IS NOT NULL) AS severity,
        arg_max(ticket_uri, timestamp) FILTER (WHERE ticket_uri IS NOT NULL)       AS ticket_uri,
        arg_min(environment, timestamp) FILTER (WHERE opens)                       AS environment,
        arg_min(artifact, timestamp) FILTER (WHERE opens)                          AS artifact,
        arg_max(description, timestamp) FILTER (WHERE NOT opens)                   AS resolution
    FROM events
    GROUP BY subject_id
)
SELECT
    p.id,
    p.service,
    coalesce(p.severity, c.default_severity) AS severity,
    p.title,
    p.opened_at,
    NULL AS acknowledged_at,
    CASE WHEN p.last_resolved_at >= p.last_opened_at THEN p.last_resolved_at END AS resolved_at,
    NULL AS caused_by_deployment,
    NULL AS root_cause_sha,
    false AS is_false_positive,
    NULL AS postmortem_url,
    NULL AS customer_impact,
    json_object('ticket_uri', p.ticket_uri, 'environment', p.environment, 'artifact', p.artifact,
                'resolution', p.resolution) AS extra,
    'cdevents' AS source
FROM per_incident p
CROSS JOIN cdevents_conf c
WHERE p.opened_at IS NOT NULL AND p.service IS NOT NULL;
