-- Commits of GitHub pull requests → canonical commits, one row per (repo, sha)
-- even when a commit belongs to several pull requests. The message is kept
-- whole up to 4,096 characters (the bound of the git source's MaxMessage),
-- for the revert trailers the transform reads.
-- The rows of source github are replaced as a whole: a mapping rule that
-- changed applies to every row.
DELETE FROM commits WHERE source = 'github';

INSERT INTO commits (sha, repo, parents, authored_at, committed_at, author, extra, source)
WITH pull_commits AS (
    SELECT repo, sha, number, payload
    FROM raw_github_pull_commits
    QUALIFY row_number() OVER (PARTITION BY repo, sha ORDER BY number DESC) = 1
)
SELECT sha,
       repo,
       coalesce(json_extract_string(payload, '$.parents[*].sha'), []),
       CAST(payload->>'$.commit.author.date' AS TIMESTAMPTZ),
       CAST(payload->>'$.commit.committer.date' AS TIMESTAMPTZ),
       coalesce(payload->>'$.author.login', (payload->>'$.commit.author.name')),
       json_object('message', left(trim(payload->>'$.commit.message', ' ' || chr(9) || chr(10) || chr(13)), 4096)),
       'github'
FROM pull_commits
