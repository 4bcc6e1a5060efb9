-- name: report-service-teams
-- description: The team of every service, so a report can split one organisation-wide metrics result by team.
-- audience: leadership
-- kind: query
select service, team from dim_services order by service
