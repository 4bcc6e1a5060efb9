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
	"embed"
	"fmt"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// Filter selects services; empty means all.
type Filter struct {
	Services []string
}

// The statements, one file each in sql/, run by package sqlrun.
//
//go:embed sql/*.sql
var sqlFS embed.FS

var scripts = func() map[string]*sqlrun.Script {
	out := map[string]*sqlrun.Script{}
	for _, name := range []string{"environments", "services", "dependencies", "commit_graph"} {
		src, err := sqlFS.ReadFile("sql/" + name + ".sql")
		if err != nil {
			panic(err)
		}
		sc, err := sqlrun.Parse("drift/sql/"+name+".sql", src)
		if err != nil {
			panic(err)
		}
		out[name] = sc
	}
	return out
}()

func args(cfg *config.Config, f Filter) map[string]any {
	services := f.Services
	if services == nil {
		services = []string{}
	}
	return map[string]any{"services": services}
}

func query(ctx context.Context, db *warehouse.DB, name string, a map[string]any) (*output.Table, error) {
	if err := marts.Require(ctx, db, "fct_deployments", "dim_services", "dim_commits"); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	sc := scripts[name]
	vals, err := sc.Args(a)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	rows, err := sc.Query(ctx, db, vals)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	return output.FromRows(rows)
}

// Environments lists the current deployment of each service per environment.
func Environments(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	return query(ctx, db, "environments", args(cfg, f))
}

// Dependencies lists, for every service in production and each of its
// dependencies, the dependency version it was tested with and the one it
// runs against; dependency_behind is true when production runs an older one.
func Dependencies(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	return query(ctx, db, "dependencies", args(cfg, f))
}

// Services compares staging with production per service: versions, commits
// staging is ahead of production (reachable from the staging commit and not
// from the production one) and behind it, days apart (staging − production),
// and whether production runs a version that never passed through staging.
// Commit counts are NULL unless both commits are in the commits table.
func Services(ctx context.Context, db *warehouse.DB, cfg *config.Config, f Filter) (*output.Table, error) {
	t, err := query(ctx, db, "services", args(cfg, f))
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
