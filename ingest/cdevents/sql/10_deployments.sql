-- deployments WHERE source = 'cdevents'.
--   service.deployed / upgraded / rolledback: a deployment finished at the
--     event's timestamp. Its status is the outcome of the latest
--     pipelinerun.finished of the same context.chainId (success; failure or
--     error → failure; cancelled or aborted → cancelled), else success.
--     changes: the change.merged events its context.links point to; their
--     newest commit is the commit when the event names none.
--   service.rolledback: is_rollback, rollback_of the previous deployment
--     (by finished_at, then id) of the same service and environment.
--   pipelinerun.finished of a pipeline listed in sources.cdevents.pipelines,
--     when no service event shares its chainId: a deployment of that
--     service and environment with the outcome's status.
--   service.removed and other events stay in raw_cdevents only.
--   id: the event's id; when two sources use the same id, SOURCE#ID.
-- The rows go to cdevents_out_deployments with the event's source and id
-- (ce_source, ce_id); source.go writes them into deployments.
INSERT INTO cdevents_out_deployments (id, service, environment, finished_at, started_at, status, version, commit_sha,
    previous_commit_sha, changes, triggered_by, is_rollback, rollback_of, is_hotfix, hotfix_of, change_request,
    url, extra, source, ce_source, ce_id)
WITH
events AS (
    SELECT * FROM stg_cdevents__events
),
merged AS (
    SELECT ce_id AS context_id, subject_id AS change_id, commit_sha, timestamp
    FROM events WHERE event = 'change.merged'
),
service_events AS (
    SELECT * FROM events WHERE event IN ('service.deployed', 'service.upgraded', 'service.rolledback')
),
links AS (
    SELECT ce_source, ce_id, unnest(linked_ids) AS context_id FROM service_events
),
linked AS (
    SELECT l.ce_source, l.ce_id,
        list(DISTINCT m.change_id ORDER BY m.change_id) AS changes,
        arg_max(m.commit_sha, m.timestamp) FILTER (WHERE m.commit_sha IS NOT NULL) AS commit_sha
    FROM links l
    JOIN merged m ON m.context_id = l.context_id
    GROUP BY l.ce_source, l.ce_id
),
pipeline_runs AS (
    SELECT chain_id,
        arg_max(outcome_status, timestamp) AS status,
        arg_max(url, timestamp) AS url,
        arg_max(pipeline, timestamp) AS pipeline
    FROM events
    WHERE event = 'pipelinerun.finished' AND chain_id IS NOT NULL AND outcome_status IS NOT NULL
    GROUP BY chain_id
),
from_services AS (
    SELECT
        s.ce_source, s.ce_id, s.service, s.environment, s.timestamp AS finished_at,
        coalesce(p.status, 'success') AS status,
        s.version,
        coalesce(s.commit_sha, l.commit_sha) AS commit_sha,
        l.changes,
        s.triggered_by,
        s.event = 'service.rolledback' AS is_rollback,
        coalesce(s.url, p.url) AS url,
        json_object('cdevents_type', s.type, 'cdevents_source', s.ce_source, 'subject', s.subject_id,
                    'artifact', s.artifact, 'chain_id', s.chain_id, 'pipeline', p.pipeline) AS extra
    FROM service_events s
    LEFT JOIN pipeline_runs p ON p.chain_id = s.chain_id
    LEFT JOIN linked l ON l.ce_source = s.ce_source AND l.ce_id = s.ce_id
),
from_pipelines AS (
    SELECT
        e.ce_source, e.ce_id, c.service, c.environment, e.timestamp AS finished_at,
        e.outcome_status AS status,
        e.version,
        e.commit_sha,
        NULL::VARCHAR[] AS changes,
        e.triggered_by,
        false AS is_rollback,
        e.url,
        json_object('cdevents_type', e.type, 'cdevents_source', e.ce_source, 'subject', e.subject_id,
                    'artifact', e.artifact, 'chain_id', e.chain_id, 'pipeline', e.pipeline) AS extra
    FROM events e
    JOIN cdevents_pipelines c ON c.name = lower(trim(e.pipeline))
    WHERE e.event = 'pipelinerun.finished'
      AND e.outcome_status IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM service_events s WHERE s.chain_id = e.chain_id)
),
unioned AS (
    SELECT * FROM from_services
    UNION ALL
    SELECT * FROM from_pipelines
),
ided AS (
    SELECT *,
        CASE WHEN count(*) OVER (PARTITION BY ce_id) > 1 THEN ce_source || '#' || ce_id ELSE ce_id END AS id
    FROM unioned
),
ordered AS (
    SELECT *,
        lag(id) OVER (PARTITION BY lower(service), lower(environment) ORDER BY finished_at, id) AS previous_id
    FROM ided
)
SELECT
    id, service, environment, finished_at, NULL AS started_at, status, version, commit_sha,
    NULL AS previous_commit_sha, changes, triggered_by, is_rollback,
    CASE WHEN is_rollback THEN previous_id END AS rollback_of,
    NULL AS is_hotfix, NULL AS hotfix_of, NULL AS change_request, url, extra,
    'cdevents' AS source,
    ce_source,
    ce_id
FROM ordered;
