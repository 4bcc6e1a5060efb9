package github

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// Tables are the canonical tables Map rebuilds (rows WHERE source = 'github').
var Tables = []string{"deployments", "changes", "commits"}

// mappings are the raw → canonical SQL files, run in file-name order by
// package sqlrun (deployments, changes, commits); each first deletes the
// rows of source github of the table it fills.
var mappings = func() []*sqlrun.Script {
	s, err := sqlrun.LoadDir(sqlFS, "sql", "ingest/github/sql")
	if err != nil {
		panic(err)
	}
	return s
}()

// mapping is what the GitHub mapping reads and writes: the raw tables,
// the settings tables writeSettings fills, and services (the paths of a
// monorepo's services place its pull requests, sql/20_changes.sql).
var mapping = ingest.Mapping{
	Source:   Name,
	Rules:    sqlFS,
	Settings: []string{"_github_repo_services", "_github_settings", "_github_release_repos"},
	Raw: []string{"raw_github_deployments", "raw_github_deployment_statuses", "raw_github_releases",
		"raw_github_workflow_runs", "raw_github_pulls", "raw_github_pull_commits", "raw_github_reviews",
		"raw_github_pull_files"},
	Reads:  []string{"services"},
	Tables: Tables,
}

// Map rebuilds the canonical rows of source 'github' (deployments, changes,
// commits) from the raw tables, in one transaction: a failure leaves the
// previous rows in place. It needs no network and can be re-run after a
// mapping rule changed. It writes nothing when nothing it reads or writes
// changed since it last mapped (ingest.Mapping).
func (s *Source) Map(ctx context.Context, db *warehouse.DB) error {
	_, err := s.MapIfChanged(ctx, db, ingest.MapOptions{})
	return err
}

// MapIfChanged is Map, saying whether it mapped; opts.Force maps even when
// nothing changed.
func (s *Source) MapIfChanged(ctx context.Context, db *warehouse.DB, opts ingest.MapOptions) (ingest.MapResult, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return ingest.MapResult{}, err
	}
	defer tx.Rollback()
	res, err := s.mapTx(ctx, tx, opts)
	if err != nil {
		return res, err
	}
	return res, tx.Commit()
}

// mapTx runs the mapping inside tx (Map, and StoreWebhook after storing a
// delivery).
func (s *Source) mapTx(ctx context.Context, tx *sql.Tx, opts ingest.MapOptions) (ingest.MapResult, error) {
	if err := s.writeSettings(ctx, tx); err != nil {
		return ingest.MapResult{}, fmt.Errorf("github: mapping settings: %w", err)
	}
	// every row of the source is rewritten: the log of canonical writes
	// carries the change of the digests
	res, err := mapping.Run(ctx, tx, opts, func() error {
		return sqlrun.ExecAll(ctx, tx, mappings, nil)
	})
	if err != nil {
		return res, fmt.Errorf("github: map: %w", err)
	}
	for _, t := range mapping.Settings {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS temp.`+t); err != nil {
			return res, err
		}
	}
	return res, nil
}

// writeSettings puts the configuration the SQL needs into temporary tables
// of the mapping's connection.
func (s *Source) writeSettings(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE _github_repo_services (repo VARCHAR, service VARCHAR, pos INTEGER)`,
		`CREATE OR REPLACE TEMP TABLE _github_settings (production_name VARCHAR, production_environments VARCHAR[], env_pattern VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE _github_release_repos (repo VARCHAR)`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// Repository names are case-insensitive on GitHub: write the configured
	// names in the spelling the raw rows use.
	spellings, err := rawRepos(ctx, tx)
	if err != nil {
		return err
	}
	spell := func(name string) string {
		for _, r := range spellings {
			if strings.EqualFold(r, name) {
				return r
			}
		}
		return name
	}
	repos := make([]string, 0, len(s.cfg.Services))
	for r := range s.cfg.Services {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	for _, r := range repos {
		for i, svc := range s.cfg.Services[r] {
			if _, err := tx.ExecContext(ctx, `INSERT INTO _github_repo_services VALUES (?, ?, ?)`, spell(r), svc, i); err != nil {
				return err
			}
		}
	}
	envs := s.cfg.Deployments.ProductionEnvironments
	if envs == nil {
		envs = []string{}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO _github_settings VALUES (?, ?::VARCHAR[], ?)`,
		s.prodName, envs, s.cfg.Deployments.Pattern); err != nil {
		return err
	}
	for _, r := range s.cfg.ReleasesAsDeployments {
		q := `INSERT INTO _github_release_repos VALUES (?)`
		args := []any{spell(r)}
		if r == "*" {
			q, args = `INSERT INTO _github_release_repos SELECT DISTINCT repo FROM raw_github_releases`, nil
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// rawRepos lists the repositories present in the raw tables.
func rawRepos(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT repo FROM raw_github_pulls UNION SELECT repo FROM raw_github_deployments
		UNION SELECT repo FROM raw_github_releases UNION SELECT repo FROM raw_github_workflow_runs`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
