-- changes WHERE source = 'cdevents', one per subject id of the change.merged
-- events (the newest event wins).
--   service:         see the staging (customData.service, else the repository).
--   merged_at:       the event's timestamp.
--   first_commit_at: customData.first_commit_at, else merged_at: without it
--                    the lead time of such a change runs from its merge.
--   merge_commit_sha, commit_shas: the event's commit (see the staging).
--   title, author:   customData.title, customData.author.
-- The rows go to cdevents_out_changes; source.go writes them.

-- The events a change is built from; its id is their subject_id (a
-- delivery maps again the changes of the subjects it stored).
CREATE OR REPLACE TEMP VIEW cdevents_change_events AS
SELECT * FROM stg_cdevents__events WHERE event = 'change.merged';

INSERT INTO cdevents_out_changes (id, service, repo, title, author, commit_shas, merge_commit_sha, first_commit_at, opened_at,
    first_review_at, approved_at, merged_at, reviewers, approvals, is_revert, labels, extra, source)
WITH
merged AS (
    SELECT *, row_number() OVER (PARTITION BY subject_id ORDER BY timestamp DESC, ce_source, ce_id) AS newest
    FROM cdevents_change_events
)
SELECT
    subject_id AS id,
    service,
    repository AS repo,
    title,
    author,
    CASE WHEN commit_sha IS NOT NULL THEN [commit_sha] END AS commit_shas,
    commit_sha AS merge_commit_sha,
    coalesce(first_commit_at, timestamp) AS first_commit_at,
    NULL AS opened_at,
    NULL AS first_review_at,
    NULL AS approved_at,
    timestamp AS merged_at,
    NULL AS reviewers,
    NULL AS approvals,
    NULL AS is_revert,
    NULL AS labels,
    json_object('cdevents_source', ce_source, 'cdevents_id', ce_id, 'url', url) AS extra,
    'cdevents' AS source
FROM merged
WHERE newest = 1 AND service IS NOT NULL;
