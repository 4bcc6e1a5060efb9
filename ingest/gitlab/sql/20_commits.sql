-- Commits of GitLab merge requests → canonical commits, one row per
-- (project, sha) even when a commit belongs to several merge requests.
-- parents from parent_ids when GitLab lists them; author is the git author
-- name (merge request commits carry no GitLab user). The message is kept
-- whole up to 4,096 characters (the bound of the git source's MaxMessage),
-- for the revert trailers the transform reads.
INSERT INTO commits (sha, repo, parents, authored_at, committed_at, author, extra, source)
WITH mr_commits AS (
    SELECT project, sha, iid, payload
    FROM raw_gitlab_mr_commits
    QUALIFY row_number() OVER (PARTITION BY project, sha ORDER BY iid DESC) = 1
)
SELECT sha,
       project,
       coalesce(json_extract_string(payload, '$.parent_ids[*]'), []),
       coalesce(gitlab_ts(payload->>'$.authored_date'), gitlab_ts(payload->>'$.committed_date'),
                gitlab_ts(payload->>'$.created_at')),
       gitlab_ts(payload->>'$.committed_date'),
       payload->>'$.author_name',
       json_object('title', payload->>'$.title', 'message', left(trim(payload->>'$.message', ' ' || chr(9) || chr(10) || chr(13)), 4096), 'merge_request_iid', iid),
       'gitlab'
FROM mr_commits
WHERE coalesce(payload->>'$.authored_date', payload->>'$.committed_date', payload->>'$.created_at') IS NOT NULL;
