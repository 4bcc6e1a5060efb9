-- GitLab merged merge requests → canonical changes, id "group/project!iid".
--   commit_shas      = the merge request's commits, oldest first (GitLab lists
--                      them newest first), then its squash commit when that is
--                      not also the merge commit;
--   merge_commit_sha = the merge commit, else the squash commit (a
--                      fast-forward merge of a squashed branch has no merge
--                      commit: the squash commit is what lands on the target);
--   first_commit_at  = earliest author date of its commits, else committer
--                      date, else when it was opened;
--   first_review_at  = earliest comment or approval by a non-author who is not
--                      a bot (stg_gitlab__reviews);
--   approvals        = distinct such approvers, approved_at the earliest of
--                      their approvals, reviewers = commenters and approvers.
-- Only merged merge requests are changes (the sync reads state=merged).
INSERT INTO changes (id, service, repo, title, author, commit_shas, merge_commit_sha, first_commit_at,
                     opened_at, first_review_at, approved_at, merged_at, reviewers, approvals,
                     is_revert, labels, extra, source)
WITH mrs AS (
    SELECT * FROM stg_gitlab__merge_requests WHERE merged_at IS NOT NULL
),
mr_commits AS (
    SELECT project, iid, position, sha,
           gitlab_ts(payload->>'$.authored_date')  AS authored_at,
           gitlab_ts(payload->>'$.committed_date') AS committed_at
    FROM raw_gitlab_mr_commits
),
commit_agg AS (
    SELECT project, iid,
           list(sha ORDER BY position DESC) AS shas,
           min(authored_at)                 AS first_authored_at,
           min(committed_at)                AS first_committed_at
    FROM mr_commits
    GROUP BY project, iid
),
review_agg AS (
    SELECT project, iid,
           min(acted_at)                                   AS first_review_at,
           list(DISTINCT username ORDER BY username) AS reviewers
    FROM stg_gitlab__reviews
    GROUP BY project, iid
),
approval_agg AS (
    SELECT project, iid,
           count(DISTINCT lower(username))           AS approvals,
           min(acted_at)                                   AS approved_at,
           to_json(list({'username': username, 'approved_at': strftime(acted_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ')}
                        ORDER BY acted_at, username))      AS approved_by
    FROM stg_gitlab__reviews
    WHERE kind = 'approval'
    GROUP BY project, iid
)
SELECT m.project || '!' || m.iid,
       gitlab_service(m.project),
       m.project,
       m.title,
       m.author,
       coalesce(c.shas, [])
           || CASE WHEN m.squash_commit_sha IS NOT NULL AND m.squash_commit_sha IS DISTINCT FROM m.merge_commit_sha
                   THEN [m.squash_commit_sha] ELSE [] END,
       coalesce(m.merge_commit_sha, m.squash_commit_sha),
       coalesce(c.first_authored_at, c.first_committed_at, m.opened_at),
       m.opened_at,
       r.first_review_at,
       a.approved_at,
       m.merged_at,
       coalesce(r.reviewers, []),
       coalesce(a.approvals, 0),
       starts_with(coalesce(m.title, ''), 'Revert "'),
       coalesce(m.labels, []),
       json_object('iid', m.iid, 'target_branch', m.target_branch, 'source_branch', m.source_branch,
                   'url', m.url, 'merge_commit_sha', m.merge_commit_sha, 'squash_commit_sha', m.squash_commit_sha,
                   'approved_by', coalesce(a.approved_by, '[]'::JSON), 'origin', m.origin),
       'gitlab'
FROM mrs m
LEFT JOIN commit_agg c ON c.project = m.project AND c.iid = m.iid
LEFT JOIN review_agg r ON r.project = m.project AND r.iid = m.iid
LEFT JOIN approval_agg a ON a.project = m.project AND a.iid = m.iid;
