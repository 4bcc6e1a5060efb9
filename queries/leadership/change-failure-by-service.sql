-- name: change-failure-by-service
-- description: Successful production deployments, failures and change failure rate per service and team
-- audience: leadership
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Reads fct_deployments. The rate is NULL, not 0, for a service with no
-- deployments in the window (it does not appear).
select service, team, department,
       count(*) as deployments,
       count(*) filter (where is_failed) as failed_deployments,
       round(count(*) filter (where is_failed) / count(*), 3) as change_failure_rate,
       count(*) filter (where is_unplanned) as unplanned_deployments
from fct_deployments
where is_production and status = 'success'
  and finished_at >= $from and finished_at < $to
group by service, team, department
order by change_failure_rate desc, service
