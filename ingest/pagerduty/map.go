package pagerduty

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// mappingSQL holds the raw → canonical SQL, run in file-name order:
// staging (stg_pagerduty__incidents), then the incidents.
//
//go:embed sql/*.sql
var mappingSQL embed.FS

// Map rebuilds the PagerDuty rows of incidents from the raw tables, in one
// transaction: a failure leaves the previous rows in place.
func (s *Source) Map(ctx context.Context, db *warehouse.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.mapTx(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// mapTx runs the mapping inside tx (a sync's or a webhook's transaction).
func (s *Source) mapTx(ctx context.Context, tx *sql.Tx) error {
	if err := writeSettings(ctx, tx, &s.cfg); err != nil {
		return fmt.Errorf("pagerduty: mapping settings: %w", err)
	}
	names, err := fs.Glob(mappingSQL, "sql/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	// every incident of the source is rewritten: the log of canonical
	// writes carries the change of the digests
	err = canonical.RewriteSource(ctx, tx, Name, []string{"incidents"}, func() error {
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
		return err
	}
	for _, t := range []string{"stg_pagerduty__incidents", "pagerduty_services", "pagerduty_severity"} {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+t); err != nil {
			return err
		}
	}
	return nil
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
