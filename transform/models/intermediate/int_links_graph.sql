-- Rule (b): changes of the deployment's service whose commits the commit
-- graph walk reached.
select distinct w.deployment_id, d.finished_at, s.change_id
from int_commit_walk w
join int_prod_deployments d on d.deployment_id = w.deployment_id
join int_change_shas s on s.sha = w.sha and s.service = d.service
