// Package drift reports what runs where: the version currently deployed in
// each environment of each service, how far staging and production are
// apart (commits through the commit graph, and days), production versions
// that never passed through staging, and services running in production
// against an older version of a dependency than the one they were tested
// with.
//
// "Currently deployed" is the latest successful deployment per service and
// environment. Environments are as the models decide them
// (fct_deployments): a production one (is_production, from
// metrics.production_environments) reads as "production", a staging one
// (is_staging, from calendar.staging_environments) as "staging", any other
// by its key (trimmed, lower-cased). drift reads the marts only, so it
// needs `shiplog transform` to have run.
//
// "Tested with": for a service's production version V, its test is the
// latest successful staging deployment of V finished no later than V reached
// production. The dependency it was tested with is the dependency's staging
// version at that moment (the deployment the service talked to in staging),
// or, when the dependency had nothing in staging then, its production
// version. A dependency version is older than another when its first
// successful deployment anywhere came earlier; this needs no version syntax.
package drift

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// Filter selects services; empty means all.
type Filter struct {
	Services []string
}

// deployedSQL is the shared head: successful deployments with normalised
// environments, and the current one per service and environment.
const deployedSQL = `
WITH deployed AS (
    SELECT deployment_id AS id, service,
           CASE WHEN is_production THEN 'production'
                WHEN is_staging THEN 'staging'
                ELSE environment END AS environment,
           is_production, is_staging,
           version, commit_sha, finished_at
    FROM fct_deployments
    WHERE status = 'success'
),
current AS (
    SELECT * FROM deployed
    QUALIFY row_number() OVER (PARTITION BY service, environment ORDER BY finished_at DESC, id DESC) = 1
),
selected AS (
    SELECT DISTINCT service FROM deployed
    WHERE len($services::VARCHAR[]) = 0 OR list_contains(list_transform($services::VARCHAR[], x -> lower(trim(x))), service)
)
`

const environmentsSQL = deployedSQL + `
SELECT service, environment, version, commit_sha, finished_at AS deployed_at, id AS deployment_id
FROM current JOIN selected USING (service)
ORDER BY service, environment`

const servicesSQL = deployedSQL + `,
prod AS (SELECT * FROM current WHERE is_production),
stg AS (SELECT * FROM current WHERE is_staging)
SELECT s.service,
       p.version AS production_version, p.commit_sha AS production_commit, p.finished_at AS production_at,
       g.version AS staging_version, g.commit_sha AS staging_commit, g.finished_at AS staging_at,
       (epoch(g.finished_at) - epoch(p.finished_at)) / 86400.0 AS days_apart,
       CASE WHEN p.id IS NULL OR (p.version IS NULL AND p.commit_sha IS NULL) THEN NULL
            ELSE NOT EXISTS (
                SELECT 1 FROM deployed x
                WHERE x.service = p.service AND x.is_staging AND x.finished_at <= p.finished_at
                  AND (x.version = p.version OR x.commit_sha = p.commit_sha))
       END AS production_unstaged
FROM selected s
LEFT JOIN prod p USING (service)
LEFT JOIN stg g USING (service)
WHERE p.id IS NOT NULL OR g.id IS NOT NULL
ORDER BY s.service`

const dependenciesSQL = deployedSQL + `,
edges AS (
    SELECT DISTINCT service, unnest(depends_on) AS dependency
    FROM dim_services
),
prod AS (SELECT * FROM current WHERE is_production),
tested AS (
    -- the latest staging deployment of the production version, before it reached production
    SELECT p.service, p.version, max(x.finished_at) AS tested_at
    FROM prod p
    JOIN deployed x ON x.service = p.service AND x.is_staging
                   AND x.finished_at <= p.finished_at AND x.version = p.version
    GROUP BY p.service, p.version
),
first_seen AS (
    SELECT service, version, min(finished_at) AS first_at FROM deployed WHERE version IS NOT NULL GROUP BY ALL
),
pairs AS (
    SELECT e.service, p.version, e.dependency, t.tested_at,
           (SELECT x.version FROM deployed x
             WHERE x.service = e.dependency AND x.is_staging AND x.finished_at <= t.tested_at
             ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) AS staging_then,
           (SELECT x.version FROM deployed x
             WHERE x.service = e.dependency AND x.is_production AND x.finished_at <= t.tested_at
             ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) AS production_then,
           dp.version AS running_with
    FROM edges e
    JOIN selected USING (service)
    JOIN prod p ON p.service = e.service
    LEFT JOIN tested t ON t.service = e.service AND t.version = p.version
    LEFT JOIN prod dp ON dp.service = e.dependency
)
SELECT q.service, q.version, q.dependency, q.tested_at,
       coalesce(q.staging_then, q.production_then) AS tested_with,
       CASE WHEN q.staging_then IS NOT NULL THEN 'staging'
            WHEN q.production_then IS NOT NULL THEN 'production' END AS tested_with_environment,
       q.running_with,
       CASE WHEN coalesce(q.staging_then, q.production_then) IS NULL OR q.running_with IS NULL THEN NULL
            ELSE r.first_at < w.first_at END AS dependency_behind
FROM pairs q
LEFT JOIN first_seen w ON w.service = q.dependency AND w.version = coalesce(q.staging_then, q.production_then)
LEFT JOIN first_seen r ON r.service = q.dependency AND r.version = q.running_with
ORDER BY q.service, q.dependency`

// args binds the filter. Services are named as the user wrote them and
// compared as keys (trimmed, lower-cased) in the SQL.
func args(f Filter) []any {
	services := f.Services
	if services == nil {
		services = []string{}
	}
	return []any{sql.Named("services", services)}
}

func query(ctx context.Context, db *warehouse.DB, q string, a []any) (*output.Table, error) {
	if err := marts.Require(ctx, db, "fct_deployments", "dim_services", "dim_commits"); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	rows, err := db.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	return output.FromRows(rows)
}

// Environments lists the current deployment of each service per environment.
func Environments(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	return query(ctx, db, environmentsSQL, args(f))
}

// Dependencies lists, for every service in production and each of its
// dependencies, the dependency version it was tested with and the one it
// runs against; dependency_behind is true when production runs an older one.
func Dependencies(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	return query(ctx, db, dependenciesSQL, args(f))
}

// Services compares staging with production per service: versions, commits
// staging is ahead of production (reachable from the staging commit and not
// from the production one) and behind it, days apart (staging − production),
// and whether production runs a version that never passed through staging.
// Commit counts are NULL unless both commits are in the commits table.
func Services(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	t, err := query(ctx, db, servicesSQL, args(f))
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, c := range t.Columns {
		col[c] = i
	}
	var shas []string
	for _, r := range t.Rows {
		for _, c := range []string{"production_commit", "staging_commit"} {
			if s, ok := r[col[c]].(string); ok && s != "" {
				shas = append(shas, s)
			}
		}
	}
	g, err := LoadGraph(ctx, db, shas)
	if err != nil {
		return nil, err
	}
	// Insert commits_ahead and commits_behind after staging_at.
	at := col["staging_at"] + 1
	cols := append(append(append([]string{}, t.Columns[:at]...), "commits_ahead", "commits_behind"), t.Columns[at:]...)
	for i, r := range t.Rows {
		var ahead, behind any
		p, _ := r[col["production_commit"]].(string)
		s, _ := r[col["staging_commit"]].(string)
		if g.Has(p) && g.Has(s) {
			a, b := g.Apart(s, p)
			ahead, behind = int64(a), int64(b)
		}
		t.Rows[i] = append(append(append([]any{}, r[:at]...), ahead, behind), r[at:]...)
	}
	t.Columns = cols
	return t, nil
}
