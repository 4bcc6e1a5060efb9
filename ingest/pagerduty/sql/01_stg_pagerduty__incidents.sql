-- Staging: one row per PagerDuty incident with the fields the mapping reads,
-- from the incident object (REST list item or v3 webhook data) and its log
-- entries (REST overview entries and v3 webhook events).
--   opened_at:       created_at (of the object, else of an earlier webhook
--                    copy), else the first trigger entry or event.
--   acknowledged_at: the first acknowledge entry or incident.acknowledged
--                    event, else the earliest current acknowledgement.
--   status:          the object's status, unless a trigger, acknowledge or
--                    resolve entry is newer than its last status change.
--   resolved_at:     when resolved: resolved_at, else the last resolve
--                    entry or incident.resolved event.
-- The REST reference names the acknowledge entry both
-- acknowledge_log_entry and acknowledgement_log_entry; both are read.
CREATE OR REPLACE TEMP TABLE stg_pagerduty__incidents AS
WITH
incidents AS (
    SELECT id, origin, payload, created_at AS stored_created_at,
        json_extract(payload, [
            '$.title', '$.summary', '$.created_at', '$.status', '$.last_status_change_at', '$.updated_at',
            '$.resolved_at', '$.urgency', '$.priority.name', '$.priority.summary', '$.service.id',
            '$.service.summary', '$.html_url', '$.incident_number', '$.number', '$.acknowledgements'
        ]) AS v
    FROM raw_pagerduty_incidents
),
entries AS (
    SELECT
        incident_id,
        type,
        created_at,
        CASE
            WHEN type IN ('trigger_log_entry', 'incident.triggered', 'unacknowledge_log_entry') THEN 'triggered'
            WHEN type IN ('acknowledge_log_entry', 'acknowledgement_log_entry', 'incident.acknowledged') THEN 'acknowledged'
            WHEN type IN ('resolve_log_entry', 'incident.resolved') THEN 'resolved'
        END AS status_after
    FROM raw_pagerduty_log_entries
),
per_incident AS (
    SELECT
        incident_id,
        min(created_at) FILTER (WHERE type IN ('trigger_log_entry', 'incident.triggered'))   AS first_trigger_at,
        min(created_at) FILTER (WHERE status_after = 'acknowledged')                       AS first_ack_at,
        max(created_at) FILTER (WHERE status_after = 'resolved')                           AS last_resolve_at,
        max(created_at) FILTER (WHERE status_after IS NOT NULL)                            AS last_change_at,
        arg_max(status_after, created_at) FILTER (WHERE status_after IS NOT NULL)          AS last_status
    FROM entries
    GROUP BY incident_id
),
fields AS (
    SELECT
        i.id,
        i.origin,
        coalesce(json_extract_string(v[1], '$'), json_extract_string(v[2], '$'))   AS title,
        coalesce(try_cast(json_extract_string(v[3], '$') AS TIMESTAMPTZ), i.stored_created_at, e.first_trigger_at) AS opened_at,
        json_extract_string(v[4], '$')                                              AS object_status,
        coalesce(try_cast(json_extract_string(v[5], '$') AS TIMESTAMPTZ),
                 try_cast(json_extract_string(v[6], '$') AS TIMESTAMPTZ))           AS object_status_at,
        try_cast(json_extract_string(v[7], '$') AS TIMESTAMPTZ)                     AS object_resolved_at,
        lower(json_extract_string(v[8], '$'))                                       AS urgency,
        coalesce(json_extract_string(v[9], '$'), json_extract_string(v[10], '$'))  AS priority,
        json_extract_string(v[11], '$')                                             AS pd_service_id,
        json_extract_string(v[12], '$')                                             AS pd_service_name,
        json_extract_string(v[13], '$')                                             AS url,
        coalesce(try_cast(json_extract_string(v[14], '$') AS BIGINT),
                 try_cast(json_extract_string(v[15], '$') AS BIGINT))               AS incident_number,
        (SELECT min(try_cast(a AS TIMESTAMPTZ))
           FROM unnest(CAST(json_extract_string(v[16], '$[*].at') AS VARCHAR[])) AS t(a)) AS current_ack_at,
        e.first_ack_at,
        e.last_resolve_at,
        e.last_change_at,
        e.last_status
    FROM incidents i
    LEFT JOIN per_incident e ON e.incident_id = i.id
)
SELECT
    *,
    CASE
        WHEN last_status IS NOT NULL AND (object_status IS NULL OR object_status_at IS NULL OR last_change_at > object_status_at)
            THEN last_status
        ELSE object_status
    END AS status
FROM fields
WHERE opened_at IS NOT NULL;
