-- Row count of every canonical table when the marts were built: the data
-- fingerprint an audit report prints beside its findings (which come from
-- these marts).
select 'teams' as "table", count(*) as "rows" from teams
union all select 'services', count(*) from services
union all select 'deployments', count(*) from deployments
union all select 'changes', count(*) from changes
union all select 'commits', count(*) from commits
union all select 'incidents', count(*) from incidents
union all select 'change_requests', count(*) from change_requests
union all select 'approvals', count(*) from approvals
union all select 'support_tickets', count(*) from support_tickets
union all select 'test_runs', count(*) from test_runs
union all select 'adoption', count(*) from adoption
union all select 'release_plans', count(*) from release_plans
