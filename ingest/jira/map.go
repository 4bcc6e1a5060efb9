package jira

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// mappingSQL holds the raw → canonical SQL, run in file-name order by
// package sqlrun: macros, staging (stg_jira__*), then one file per
// canonical table.
//
//go:embed sql/*.sql
var mappingSQL embed.FS

// DefaultPrioritySeverities maps Jira's built-in priority names (Cloud and
// Data Center) to severities.
var DefaultPrioritySeverities = map[string]string{
	"highest": "sev1", "blocker": "sev1",
	"high": "sev2", "critical": "sev2",
	"medium": "sev3", "major": "sev3",
	"low": "sev4", "lowest": "sev4", "minor": "sev4", "trivial": "sev4",
}

// Defaults of the change-request and incident value lists.
var (
	DefaultApprovedStatuses         = []string{"Approved"}
	DefaultRejectedStatuses         = []string{"Rejected", "Declined"}
	DefaultCancelledStatuses        = []string{"Cancelled", "Canceled"}
	DefaultEmergencyValues          = []string{"Emergency"}
	DefaultStandardValues           = []string{"Standard"}
	DefaultFalsePositiveResolutions = []string{"False Positive"}
)

// Tables lists the canonical tables Map rebuilds (its rows WHERE source = 'jira').
var Tables = []string{"incidents", "change_requests", "approvals", "support_tickets", "release_plans"}

// Map rebuilds the Jira rows of the canonical tables from the raw tables,
// in one transaction: a failure leaves the previous rows in place. It
// writes nothing when nothing it reads or writes changed since it last
// mapped (ingest.Mapping).
func (s *Source) Map(ctx context.Context, db *warehouse.DB) error {
	_, err := s.MapIfChanged(ctx, db, ingest.MapOptions{})
	return err
}

// settingsTables are the temporary tables writeSettings fills.
var settingsTables = []string{"jira_conf", "jira_lists", "jira_maps"}

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
	if err := writeSettings(ctx, tx, s.cfg); err != nil {
		return ingest.MapResult{}, fmt.Errorf("jira: mapping settings: %w", err)
	}
	scripts, err := sqlrun.LoadDir(mappingSQL, "sql", "ingest/jira/sql")
	if err != nil {
		return ingest.MapResult{}, err
	}
	vals := fieldPaths(s.cfg)
	// What the mapping reads: the raw tables, the settings tables and the
	// field paths the staging SQL reads with getvariable.
	mapping := ingest.Mapping{
		Source:   Name,
		Rules:    mappingSQL,
		Settings: settingsTables,
		Values:   vals,
		Raw:      []string{"raw_jira_issues", "raw_jira_changelogs", "raw_jira_versions"},
		Tables:   Tables,
	}
	// every row of the source is rewritten: the log of canonical writes
	// carries the change of the digests
	res, err := mapping.Run(ctx, tx, opts, func() error {
		return sqlrun.ExecAll(ctx, tx, scripts, vals)
	})
	if err != nil {
		return res, fmt.Errorf("jira: mapping: %w", err)
	}
	for _, t := range append([]string{"stg_jira__issues", "stg_jira__status_changes"}, settingsTables...) {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+t); err != nil {
			return res, err
		}
	}
	return res, tx.Commit()
}

// fieldPaths are the run values of the staging SQL: the JSON path of each
// configured field ('$.fields.ID', NAME_path), or a path that never exists
// when the field is unset.
func fieldPaths(c *config.Jira) map[string]any {
	in := c.Incidents
	if in == nil {
		in = &config.JiraIncidents{}
	}
	cr := c.ChangeRequests
	if cr == nil {
		cr = &config.JiraChangeRequests{}
	}
	st := c.SupportTickets
	if st == nil {
		st = &config.JiraSupportTickets{}
	}
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	fields := map[string]string{
		"severity":       in.SeverityField,
		"service":        or(in.ServiceField, "components"),
		"ticket_service": or(st.ServiceField, "components"),
		"deployment":     in.DeploymentField,
		"commit":         in.CommitField,
		"risk":           cr.RiskField,
		"planned_start":  cr.PlannedStartField,
		"planned_end":    cr.PlannedEndField,
		"services":       or(cr.ServicesField, "components"),
		"reviewed":       cr.ReviewedField,
	}
	vals := map[string]any{}
	for name, f := range fields {
		path := "$.shiplog_unset_field"
		if f != "" {
			path = "$.fields." + f
		}
		vals[name+"_path"] = path
	}
	return vals
}

// writeSettings puts the configuration the SQL needs into three temporary
// tables: jira_conf (one row, a column per setting), jira_lists (name → values, lower
// case for comparison) and jira_maps (name → key (lower case) → value).
// Unset values get their documented defaults here, and nowhere else.
func writeSettings(ctx context.Context, tx *sql.Tx, c *config.Jira) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE jira_conf (url VARCHAR, text_links BOOLEAN, severity_field VARCHAR,
			service_field VARCHAR, deployment_field VARCHAR, commit_field VARCHAR, risk_field VARCHAR,
			planned_start_field VARCHAR, planned_end_field VARCHAR, services_field VARCHAR, reviewed_field VARCHAR,
			approval_role VARCHAR, ticket_service_field VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE jira_lists (name VARCHAR, value VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE jira_maps (name VARCHAR, key VARCHAR, value VARCHAR)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	settings := map[string]string{"url": strings.TrimRight(c.URL, "/"), "text_links": "true"}
	lists := map[string][]string{}
	maps := map[string]map[string]string{"priority_severities": DefaultPrioritySeverities}
	or := func(v, def []string) []string {
		if len(v) > 0 {
			return v
		}
		return def
	}
	lists["false_positive_resolutions"] = DefaultFalsePositiveResolutions
	if in := c.Incidents; in != nil {
		settings["severity_field"] = in.SeverityField
		settings["service_field"] = in.ServiceField
		settings["deployment_field"] = in.DeploymentField
		settings["commit_field"] = in.CommitField
		if in.TextLinks != nil && !*in.TextLinks {
			settings["text_links"] = "false"
		}
		lists["false_positive_resolutions"] = or(in.FalsePositiveResolution, DefaultFalsePositiveResolutions)
		maps["severity_values"] = in.SeverityValues
		if len(in.PrioritySeverities) > 0 {
			maps["priority_severities"] = in.PrioritySeverities
		}
	}
	cr := c.ChangeRequests
	if cr == nil {
		cr = &config.JiraChangeRequests{}
	}
	settings["risk_field"] = cr.RiskField
	settings["planned_start_field"] = cr.PlannedStartField
	settings["planned_end_field"] = cr.PlannedEndField
	settings["services_field"] = cr.ServicesField
	settings["reviewed_field"] = cr.ReviewedField
	settings["approval_role"] = cr.ApprovalRole
	lists["approved_statuses"] = or(cr.ApprovedStatuses, DefaultApprovedStatuses)
	lists["rejected_statuses"] = or(cr.RejectedStatuses, DefaultRejectedStatuses)
	lists["cancelled_statuses"] = or(cr.CancelledStatuses, DefaultCancelledStatuses)
	lists["emergency_values"] = or(cr.EmergencyValues, DefaultEmergencyValues)
	lists["standard_values"] = or(cr.StandardValues, DefaultStandardValues)
	if st := c.SupportTickets; st != nil {
		settings["ticket_service_field"] = st.ServiceField
	}
	if r := c.Releases; r != nil {
		maps["release_services"] = r.Services
	}

	null := func(k string) any {
		if settings[k] == "" {
			return nil
		}
		return settings[k]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO jira_conf VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		settings["url"], settings["text_links"] == "true", null("severity_field"), null("service_field"),
		null("deployment_field"), null("commit_field"), null("risk_field"), null("planned_start_field"),
		null("planned_end_field"), null("services_field"), null("reviewed_field"), null("approval_role"),
		null("ticket_service_field")); err != nil {
		return err
	}
	for k, vs := range lists {
		for _, v := range vs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO jira_lists VALUES (?, ?)`, k, strings.ToLower(strings.TrimSpace(v))); err != nil {
				return err
			}
		}
	}
	for _, f := range cr.ApproverFields {
		// Field ids keep their case: they are JSON keys.
		if _, err := tx.ExecContext(ctx, `INSERT INTO jira_lists VALUES ('approver_fields_raw', ?)`, f); err != nil {
			return err
		}
	}
	for k, m := range maps {
		for kk, v := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO jira_maps VALUES (?, ?, ?)`, k, strings.ToLower(strings.TrimSpace(kk)), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CanonicalCounts returns how many rows the Jira source has in each of
// Tables.
func CanonicalCounts(ctx context.Context, db *warehouse.DB) (map[string]int64, error) {
	out := make(map[string]int64, len(Tables))
	for _, t := range Tables {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+warehouse.QuoteIdent(t)+` WHERE source = 'jira'`).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}
