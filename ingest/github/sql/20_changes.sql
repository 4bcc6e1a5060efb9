-- GitHub pull requests → canonical changes. Every pull request (open, closed
-- unmerged, merged) is a change. Reviews count only when submitted by a person
-- other than the pull request's author who is not a bot (user.type "Bot") and
-- whose account still exists (user not null):
--   first_review_at = earliest such review of any state (COMMENTED,
--                     CHANGES_REQUESTED, APPROVED, DISMISSED);
--   approvals       = reviewers whose latest APPROVED / CHANGES_REQUESTED /
--                     DISMISSED review is APPROVED (COMMENTED does not withdraw
--                     an approval, as on GitHub);
--   approved_at     = earliest submitted_at of those standing approvals;
--   reviewers       = distinct such reviewers, sorted.
-- Services: _github_repo_services lists a repository's services. With one, the
-- change is owner/repo#N of that service. With several, a pull request belongs
-- to each service whose paths (services.paths globs) match a file it touched,
-- or to the first listed service when none match; it gets the id
-- owner/repo#N:service only when it belongs to more than one.
-- The rows of source github are replaced as a whole: a mapping rule that
-- changed applies to every row.
DELETE FROM changes WHERE source = 'github';

INSERT INTO changes (id, service, repo, title, author, commit_shas, merge_commit_sha, first_commit_at,
                     opened_at, first_review_at, approved_at, merged_at, reviewers, approvals,
                     is_revert, labels, extra, source)
WITH pulls AS (
    SELECT repo,
           number,
           (payload->>'$.title')                             AS title,
           (payload->>'$.user.login')                        AS author,
           CAST(payload->>'$.created_at' AS TIMESTAMPTZ)   AS opened_at,
           CAST(payload->>'$.merged_at' AS TIMESTAMPTZ)    AS merged_at,
           (payload->>'$.merge_commit_sha')                  AS merge_commit_sha,
           (payload->>'$.state')                             AS state,
           CAST(payload->>'$.draft' AS BOOLEAN)            AS draft,
           (payload->>'$.base.ref')                          AS base_ref,
           (payload->>'$.head.ref')                          AS head_ref,
           (payload->>'$.html_url')                          AS url,
           json_extract_string(payload, '$.labels[*].name') AS labels
    FROM raw_github_pulls
),
pull_commits AS (
    SELECT repo, number, position, sha,
           CAST(payload->>'$.commit.author.date' AS TIMESTAMPTZ)    AS authored_at,
           CAST(payload->>'$.commit.committer.date' AS TIMESTAMPTZ) AS committed_at
    FROM raw_github_pull_commits
),
commit_agg AS (
    SELECT repo, number,
           list(sha ORDER BY position)          AS commit_shas,
           min(authored_at)                     AS first_authored_at,
           min(committed_at)                    AS first_committed_at
    FROM pull_commits
    GROUP BY repo, number
),
reviews AS (
    SELECT r.repo, r.number, r.id,
           (r.payload->>'$.user.login')                       AS login,
           (r.payload->>'$.user.type')                        AS user_type,
           (r.payload->>'$.state')                            AS state,
           CAST((r.payload->>'$.submitted_at') AS TIMESTAMPTZ) AS submitted_at
    FROM raw_github_reviews r
),
peer_reviews AS (
    SELECT rv.*
    FROM reviews rv
    JOIN pulls p ON p.repo = rv.repo AND p.number = rv.number
    WHERE rv.login IS NOT NULL
      AND rv.login IS DISTINCT FROM p.author
      AND coalesce(rv.user_type, '') <> 'Bot'
      AND rv.submitted_at IS NOT NULL
      AND rv.state <> 'PENDING'
),
latest_decision AS (
    SELECT repo, number, login, state, submitted_at
    FROM peer_reviews
    WHERE state IN ('APPROVED', 'CHANGES_REQUESTED', 'DISMISSED')
    QUALIFY row_number() OVER (PARTITION BY repo, number, login ORDER BY submitted_at DESC, id DESC) = 1
),
review_agg AS (
    SELECT repo, number,
           min(submitted_at)                    AS first_review_at,
           list(DISTINCT login ORDER BY login)  AS reviewers
    FROM peer_reviews
    GROUP BY repo, number
),
approval_agg AS (
    SELECT repo, number, count(*) AS approvals, min(submitted_at) AS approved_at
    FROM latest_decision
    WHERE state = 'APPROVED'
    GROUP BY repo, number
),
repo_services AS (
    SELECT repo, service, pos, count(*) OVER (PARTITION BY repo) AS n_services
    FROM _github_repo_services
),
service_globs AS (
    SELECT rs.repo, rs.service, unnest(sv.paths) AS glob
    FROM repo_services rs
    JOIN (SELECT DISTINCT id, paths FROM services) sv ON sv.id = rs.service
    WHERE rs.n_services > 1
),
matched AS (
    SELECT DISTINCT f.repo, f.number, g.service
    FROM raw_github_pull_files f
    JOIN service_globs g ON g.repo = f.repo AND f.filename GLOB g.glob
),
pull_services AS (
    -- repositories hosting one service (configured or named after the repo)
    SELECT p.repo, p.number,
           coalesce(rs.service, split_part(p.repo, '/', 2)) AS service
    FROM pulls p
    LEFT JOIN repo_services rs ON rs.repo = p.repo
    WHERE coalesce(rs.n_services, 1) = 1
    UNION ALL
    SELECT m.repo, m.number, m.service FROM matched m
    UNION ALL
    -- monorepo pull requests touching no service's paths: the first service
    SELECT p.repo, p.number, rs.service
    FROM pulls p
    JOIN repo_services rs ON rs.repo = p.repo AND rs.n_services > 1 AND rs.pos = 0
    WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.repo = p.repo AND m.number = p.number)
),
pull_service_counts AS (
    SELECT repo, number, service, count(*) OVER (PARTITION BY repo, number) AS n
    FROM pull_services
)
SELECT p.repo || '#' || p.number || CASE WHEN ps.n > 1 THEN ':' || ps.service ELSE '' END,
       ps.service,
       p.repo,
       p.title,
       p.author,
       coalesce(c.commit_shas, []),
       CASE WHEN p.merged_at IS NOT NULL THEN p.merge_commit_sha END,
       coalesce(c.first_authored_at, c.first_committed_at, p.opened_at),
       p.opened_at,
       r.first_review_at,
       a.approved_at,
       p.merged_at,
       coalesce(r.reviewers, []),
       coalesce(a.approvals, 0),
       starts_with(coalesce(p.title, ''), 'Revert "'),
       coalesce(p.labels, []),
       json_object('number', p.number, 'state', p.state, 'draft', p.draft,
                   'base_ref', p.base_ref, 'head_ref', p.head_ref, 'url', p.url),
       'github'
FROM pulls p
JOIN pull_service_counts ps ON ps.repo = p.repo AND ps.number = p.number
LEFT JOIN commit_agg c ON c.repo = p.repo AND c.number = p.number
LEFT JOIN review_agg r ON r.repo = p.repo AND r.number = p.number
LEFT JOIN approval_agg a ON a.repo = p.repo AND a.number = p.number
