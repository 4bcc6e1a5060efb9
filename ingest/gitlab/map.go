package gitlab

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// mappingSQL holds the raw → canonical SQL, run in file-name order: macros
// and staging views (stg_gitlab__*, which read both the REST and the
// webhook shapes), then one file per canonical table.
//
//go:embed sql/*.sql
var mappingSQL embed.FS

// Tables lists the canonical tables Map rebuilds (its rows WHERE source =
// 'gitlab').
var Tables = []string{"changes", "commits", "deployments", "test_runs", "incidents"}

// mapping is what the GitLab mapping reads and writes: the raw tables and
// the settings tables writeSettings fills.
var mapping = ingest.Mapping{
	Source:   Name,
	Rules:    mappingSQL,
	Settings: []string{"_gitlab_settings", "_gitlab_services", "_gitlab_maps"},
	Raw:      rawTables,
	Tables:   Tables,
}

// Map rebuilds the canonical rows of source 'gitlab' from the raw tables,
// in one transaction: a failure leaves the previous rows in place. It needs
// no network and can be re-run after a mapping rule changed. It writes
// nothing when nothing it reads or writes changed since it last mapped
// (ingest.Mapping).
func (s *Source) Map(ctx context.Context, db *warehouse.DB) error {
	_, err := s.MapIfChanged(ctx, db, ingest.MapOptions{})
	return err
}

// MapIfChanged is Map, saying whether it mapped; opts.Force maps even when
// nothing changed.
func (s *Source) MapIfChanged(ctx context.Context, db *warehouse.DB, opts ingest.MapOptions) (ingest.MapResult, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return ingest.MapResult{}, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
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
		return ingest.MapResult{}, fmt.Errorf("gitlab: mapping settings: %w", err)
	}
	names, err := fs.Glob(mappingSQL, "sql/*.sql")
	if err != nil {
		return ingest.MapResult{}, err
	}
	sort.Strings(names)
	// every row of the source is rewritten: the log of canonical writes
	// carries the change of the digests
	res, err := mapping.Run(ctx, tx, opts, func() error {
		for _, t := range Tables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE source = 'gitlab'`); err != nil {
				return fmt.Errorf("gitlab: map %s: %w", t, err)
			}
		}
		for _, name := range names {
			body, err := fs.ReadFile(mappingSQL, name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("gitlab: mapping ingest/gitlab/%s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, v := range []string{"stg_gitlab__merge_requests", "stg_gitlab__deployments", "stg_gitlab__pipelines",
		"stg_gitlab__jobs", "stg_gitlab__issues", "stg_gitlab__reviews"} {
		if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS temp.`+v); err != nil {
			return res, err
		}
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
	c := s.cfg
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE _gitlab_settings (production_name VARCHAR, production_environments VARCHAR[],
			bot_users VARCHAR[], deploy_jobs VARCHAR[], default_severity VARCHAR, service_label_prefix VARCHAR,
			incident_issue_type BOOLEAN, incident_label VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE _gitlab_services (project VARCHAR, service VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE _gitlab_maps (name VARCHAR, key VARCHAR, value VARCHAR)`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// Production names are compared trimmed and case-insensitively.
	prod := map[string]bool{}
	var prodList []string
	for _, e := range append(append([]string{}, s.prodEnvs...), c.Deployments.ProductionEnvironments...) {
		k := strings.ToLower(strings.TrimSpace(e))
		if k != "" && !prod[k] {
			prod[k] = true
			prodList = append(prodList, k)
		}
	}
	var bots, jobs []string
	for _, b := range c.BotUsers {
		bots = append(bots, strings.ToLower(strings.TrimSpace(b)))
	}
	if c.Pipelines != nil {
		for _, j := range c.Pipelines.DeployJobs {
			jobs = append(jobs, strings.TrimSpace(j))
		}
	}
	defaultSev, prefix, issueType, label := "sev3", "service::", true, ""
	if in := c.Incidents; in != nil {
		defaultSev, prefix, issueType, label = in.DefaultSeverity, *in.ServiceLabelPrefix, *in.IssueType, in.Label
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO _gitlab_settings VALUES (?, `+listLiteral(prodList)+`, `+
		listLiteral(bots)+`, `+listLiteral(jobs)+`, ?, ?, ?, ?)`, strings.TrimSpace(s.prodEnvs[0]), defaultSev, prefix, issueType, label); err != nil {
		return err
	}
	projects := make([]string, 0, len(c.Services))
	for p := range c.Services {
		projects = append(projects, p)
	}
	sort.Strings(projects)
	for _, p := range projects {
		if _, err := tx.ExecContext(ctx, `INSERT INTO _gitlab_services VALUES (lower(?), ?)`, p, strings.TrimSpace(c.Services[p])); err != nil {
			return err
		}
	}
	sev := map[string]string{}
	for k, v := range DefaultSeverities {
		sev[k] = v
	}
	var labels map[string]string
	if in := c.Incidents; in != nil {
		for k, v := range in.Severities {
			sev[strings.ToLower(strings.TrimSpace(k))] = v
		}
		labels = in.SeverityLabels
	}
	for _, m := range []struct {
		name string
		kv   map[string]string
	}{{"severities", sev}, {"severity_labels", labels}} {
		keys := make([]string, 0, len(m.kv))
		for k := range m.kv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO _gitlab_maps VALUES (?, lower(trim(?)), ?)`, m.name, k, m.kv[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// listLiteral writes a VARCHAR[] literal of quoted strings.
func listLiteral(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = warehouse.QuoteString(it)
	}
	return "CAST([" + strings.Join(q, ", ") + "] AS VARCHAR[])"
}
