package pagerduty

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

// mappingSQL holds the raw → canonical SQL, run in file-name order:
// staging (stg_pagerduty__incidents), then the incidents.
//
//go:embed sql/*.sql
var mappingSQL embed.FS

// mapping is what the PagerDuty mapping reads and writes: the raw tables
// and the settings tables writeSettings fills.
var mapping = ingest.Mapping{
	Source:   Name,
	Rules:    mappingSQL,
	Settings: []string{"pagerduty_services", "pagerduty_severity"},
	Raw:      []string{"raw_pagerduty_incidents", "raw_pagerduty_log_entries"},
	Tables:   []string{"incidents"},
}

// Map rebuilds the PagerDuty rows of incidents from the raw tables, in one
// transaction: a failure leaves the previous rows in place. It writes
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

// mapTx runs the mapping inside tx (a sync's or a webhook's transaction).
func (s *Source) mapTx(ctx context.Context, tx *sql.Tx, opts ingest.MapOptions) (ingest.MapResult, error) {
	if err := writeSettings(ctx, tx, &s.cfg); err != nil {
		return ingest.MapResult{}, fmt.Errorf("pagerduty: mapping settings: %w", err)
	}
	names, err := fs.Glob(mappingSQL, "sql/*.sql")
	if err != nil {
		return ingest.MapResult{}, err
	}
	sort.Strings(names)
	// every incident of the source is rewritten: the log of canonical
	// writes carries the change of the digests
	res, err := mapping.Run(ctx, tx, opts, func() error {
		for _, name := range names {
			body, err := fs.ReadFile(mappingSQL, name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("pagerduty: mapping %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, t := range append([]string{"stg_pagerduty__incidents"}, mapping.Settings...) {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+t); err != nil {
			return res, err
		}
	}
	return res, nil
}

// writeSettings puts the services and severity maps into two temporary
// tables, keys trimmed and in lower case (they compare case-insensitively).
func writeSettings(ctx context.Context, tx *sql.Tx, c *Config) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE pagerduty_services (key VARCHAR, value VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE pagerduty_severity (key VARCHAR, value VARCHAR)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for table, m := range map[string]map[string]string{"pagerduty_services": c.Services, "pagerduty_severity": c.Severity} {
		for k, v := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` VALUES (?, ?)`,
				strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Count returns how many incidents the PagerDuty source has.
func Count(ctx context.Context, db *warehouse.DB) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM incidents WHERE source = 'pagerduty'`).Scan(&n)
	return n, err
}
