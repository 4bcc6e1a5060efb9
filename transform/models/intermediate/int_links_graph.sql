-- materialized: view
-- Rule (b): changes of the deployment's service whose commits the commit
-- graph walk reached.
select w.deployment_id, w.finished_at, s.change_id
from int_commit_walk w
join int_change_shas s on s.sha = w.sha and s.service = w.service
