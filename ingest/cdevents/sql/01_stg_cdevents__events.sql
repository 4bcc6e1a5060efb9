-- Staging: one row per stored CDEvent with the fields the mappings read,
-- each payload parsed once.
--   event:       subject.predicate (service.deployed, incident.resolved …).
--   service:     sources.cdevents.services by the service's id, else the
--                id's last path element in lower case. The id is: the
--                subject id of service events; content.service.id of
--                incidents, else their artifact's purl name;
--                customData.service of changes, else the repository id.
--   environment: sources.cdevents.environments by environment id, else the id.
--   commit_sha:  the first of customData.commit_sha / commitSha / commit,
--                a link's tags.commit_sha / commitSha / commit, the purl's
--                vcs_url qualifier (…@SHA), the purl version when it is a
--                commit id. (A linked change.merged event's commit comes
--                next, in the deployments mapping.)
--   version:     customData.version, else the purl's tag qualifier, else
--                the purl version unless it is the commit.
--   linked_ids:  the context ids that context.links point to.
-- It reads cdevents_raw: every row of raw_cdevents for the full mapping,
-- the rows a delivery can change for a keyed one (keyed.go).
CREATE OR REPLACE TEMP TABLE stg_cdevents__events AS
WITH
parsed AS (
    SELECT
        source AS ce_source,
        id AS ce_id,
        type,
        regexp_extract(type, '^dev\.cdevents\.([a-z]+\.[a-z]+)\.', 1) AS event,
        subject_id,
        timestamp,
        json_extract_string(payload, [
            '$.context.chainId', '$.subject.content.environment.id', '$.subject.content.artifactId',
            '$.subject.content.outcome', '$.subject.content.pipelineName', '$.subject.content.url',
            '$.subject.content.description', '$.subject.content.service.id', '$.subject.content.ticketURI',
            '$.subject.content.repository.id', '$.customData.commit_sha', '$.customData.commitSha',
            '$.customData.commit', '$.customData.version', '$.customData.severity', '$.customData.priority',
            '$.customData.title', '$.customData.author', '$.customData.first_commit_at', '$.customData.url',
            '$.customData.service', '$.customData.triggered_by'
        ]) AS v,
        json_extract(payload, '$.context.links') AS links
    FROM cdevents_raw
),
fields AS (
    SELECT
        p.*,
        v[3] AS artifact,
        CASE
            WHEN event LIKE 'service.%' THEN subject_id
            WHEN event LIKE 'incident.%' THEN coalesce(v[8], purl_name(v[3]))
            WHEN event = 'change.merged' THEN coalesce(v[21], v[10])
        END AS service_id,
        CASE WHEN links IS NOT NULL THEN list_filter(
            flatten([coalesce(json_extract_string(links, '$[*].tags.commit_sha'), []),
                     coalesce(json_extract_string(links, '$[*].tags.commitSha'), []),
                     coalesce(json_extract_string(links, '$[*].tags.commit'), [])]),
            lambda x: cdevents_sha(x) IS NOT NULL) END AS link_shas,
        CASE WHEN links IS NOT NULL THEN list_distinct(flatten([coalesce(json_extract_string(links, '$[*].target.contextId'), []),
                               coalesce(json_extract_string(links, '$[*].from.contextId'), [])])) END AS linked_ids
    FROM parsed p
)
SELECT
    f.ce_source,
    f.ce_id,
    f.type,
    f.event,
    f.subject_id,
    f.timestamp,
    f.v[1]                                                   AS chain_id,
    coalesce(sv.value, last_element(f.service_id))           AS service,
    CASE WHEN f.v[2] IS NOT NULL THEN coalesce(ev.value, trim(f.v[2])) END AS environment,
    f.artifact,
    f.v[4]                                                   AS outcome,
    cdevents_status(f.v[4])                                  AS outcome_status,
    f.v[5]                                                   AS pipeline,
    coalesce(f.v[20], f.v[6])                                AS url,
    f.v[7]                                                   AS description,
    f.v[9]                                                   AS ticket_uri,
    f.v[10]                                                  AS repository,
    coalesce(cdevents_sha(f.v[11]), cdevents_sha(f.v[12]), cdevents_sha(f.v[13]),
             cdevents_sha(f.link_shas[1]), purl_vcs_sha(f.artifact), purl_version_sha(f.artifact)) AS commit_sha,
    coalesce(f.v[14], purl_tag(f.artifact),
             CASE WHEN purl_version_sha(f.artifact) IS NULL THEN purl_version(f.artifact) END) AS version,
    coalesce(cdevents_severity(f.v[15]), cdevents_severity(f.v[16])) AS severity,
    f.v[17]                                                  AS title,
    f.v[18]                                                  AS author,
    try_cast(f.v[19] AS TIMESTAMPTZ)                         AS first_commit_at,
    f.v[22]                                                  AS triggered_by,
    f.linked_ids
FROM fields f
LEFT JOIN cdevents_services sv ON sv.key = lower(trim(f.service_id))
LEFT JOIN cdevents_environments ev ON ev.key = lower(trim(f.v[2]));
