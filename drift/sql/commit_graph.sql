-- drift.LoadGraph: the commits of every repository that holds one of
-- $shas (commits of one sha from several sources count once).
-- param: shas text[] ''
SELECT sha, coalesce(any_value(parents), []::VARCHAR[]) FROM dim_commits
WHERE repo IN (SELECT DISTINCT repo FROM dim_commits WHERE list_contains($shas::VARCHAR[], sha))
GROUP BY sha
