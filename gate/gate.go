// Package gate evaluates the release gate policy of shiplog.yaml for one
// service and version (or commit) against the warehouse and records the
// decision in gate_decisions, so that the gate-override control can later
// find releases that went out after a NO-GO.
package gate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Decisions.
const (
	Go       = "go"
	NoGo     = "no-go"
	Override = "override"
)

// Options name the release to gate.
type Options struct {
	Service string
	Version string
	Commit  string
	// OverrideReason, when set, turns a NO-GO into a recorded override.
	OverrideReason string
	// Actor is who asked (decided_by).
	Actor string
	// Now is the evaluation time; zero means time.Now.
	Now time.Time
}

// Criterion is one line of the decision.
type Criterion struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Evidence string `json:"evidence"`
}

// Decision is the outcome of one evaluation.
type Decision struct {
	ID             int64       `json:"id"`
	Service        string      `json:"service"`
	Version        string      `json:"version,omitempty"`
	Commit         string      `json:"commit,omitempty"`
	Decision       string      `json:"decision"`
	Criteria       []Criterion `json:"criteria"`
	DecidedBy      string      `json:"decided_by,omitempty"`
	DecidedAt      time.Time   `json:"decided_at"`
	OverrideReason string      `json:"override_reason,omitempty"`
}

// Passed reports whether every criterion passed.
func (d *Decision) Passed() bool {
	for _, c := range d.Criteria {
		if !c.Passed {
			return false
		}
	}
	return true
}

// Run evaluates the policy and records the decision.
func Run(ctx context.Context, db *warehouse.DB, cfg *config.Config, opts Options) (*Decision, error) {
	d, err := Evaluate(ctx, db, cfg, opts)
	if err != nil {
		return nil, err
	}
	return d, Record(ctx, db, d)
}

// Evaluate checks every criterion of cfg.Gate without writing anything.
func Evaluate(ctx context.Context, db *warehouse.DB, cfg *config.Config, opts Options) (*Decision, error) {
	if opts.Service == "" {
		return nil, errors.New("gate: a service is needed")
	}
	if opts.Version == "" && opts.Commit == "" {
		return nil, errors.New("gate: a version or a commit is needed")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	e := &evaluator{db: db, cfg: cfg, opts: opts, now: opts.Now.UTC()}
	d := &Decision{Service: opts.Service, Version: opts.Version, Commit: opts.Commit,
		DecidedBy: opts.Actor, DecidedAt: e.now, OverrideReason: strings.TrimSpace(opts.OverrideReason)}
	steps := []func(context.Context) (Criterion, error){e.passRate, e.requiredSuites, e.incidents}
	if cfg.Gate.RequireApprovedCR {
		steps = append(steps, e.changeRequest)
	}
	steps = append(steps, e.changeFailureRate)
	if cfg.Gate.CheckFreeze {
		steps = append(steps, e.freeze)
	}
	for _, step := range steps {
		c, err := step(ctx)
		if err != nil {
			return nil, fmt.Errorf("gate: %s: %w", c.Name, err)
		}
		d.Criteria = append(d.Criteria, c)
	}
	switch {
	case d.Passed():
		d.Decision = Go
	case d.OverrideReason != "":
		d.Decision = Override
	default:
		d.Decision = NoGo
	}
	return d, nil
}

// Record stores d in gate_decisions and sets its ID.
func Record(ctx context.Context, db *warehouse.DB, d *Decision) error {
	crit, err := json.Marshal(d.Criteria)
	if err != nil {
		return err
	}
	return db.QueryRowContext(ctx, `INSERT INTO gate_decisions
		(service, version, commit_sha, decision, criteria, decided_by, decided_at, override_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.Service, nullable(d.Version), nullable(d.Commit), d.Decision, string(crit), nullable(d.DecidedBy), d.DecidedAt,
		nullable(d.OverrideReason)).Scan(&d.ID)
}

type evaluator struct {
	db   *warehouse.DB
	cfg  *config.Config
	opts Options
	now  time.Time
}

// buildRuns selects the test runs of the release: same service, and the
// version or the commit.
const buildRuns = `FROM test_runs WHERE service = $service
	AND (($version <> '' AND version = $version) OR ($commit <> '' AND commit_sha = $commit))`

func (e *evaluator) buildArgs() []any {
	return []any{sql.Named("service", e.opts.Service), sql.Named("version", e.opts.Version), sql.Named("commit", e.opts.Commit)}
}

func (e *evaluator) release() string {
	var parts []string
	if e.opts.Version != "" {
		parts = append(parts, e.opts.Version)
	}
	if e.opts.Commit != "" {
		parts = append(parts, e.opts.Commit)
	}
	return strings.Join(parts, " / ")
}

// passRate: passed ÷ (tests − skipped) over every run of the release, all
// frameworks together.
func (e *evaluator) passRate(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "tests"}
	var runs int
	var tests, passed, skipped sql.NullInt64
	var frameworks sql.NullString
	err := e.db.QueryRowContext(ctx, `SELECT count(*), sum(tests), sum(passed), sum(coalesce(skipped, 0)),
		string_agg(DISTINCT coalesce(framework, 'unknown'), ', ' ORDER BY coalesce(framework, 'unknown')) `+buildRuns, e.buildArgs()...).
		Scan(&runs, &tests, &passed, &skipped, &frameworks)
	if err != nil {
		return c, err
	}
	min := e.cfg.Gate.MinPassRate
	executed := tests.Int64 - skipped.Int64
	if runs == 0 || executed <= 0 {
		c.Evidence = fmt.Sprintf("no executed tests recorded for %s %s (minimum pass rate %s)", e.opts.Service, e.release(), pct(min))
		return c, nil
	}
	rate := float64(passed.Int64) / float64(executed)
	c.Passed = rate >= min
	c.Evidence = fmt.Sprintf("%s passed (%d of %d executed, %d skipped) in %d run(s) of %s; minimum %s",
		pct(rate), passed.Int64, executed, skipped.Int64, runs, frameworks.String, pct(min))
	return c, nil
}

// requiredSuites: every suite named in gate.required_suites (a name or
// glob) must have a run for the release, and every required run (from the
// policy or marked at ingest) must have no failure.
func (e *evaluator) requiredSuites(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "required suites"}
	rows, err := e.db.QueryContext(ctx, `SELECT coalesce(suite, ''), coalesce(required, false), failed `+buildRuns+` ORDER BY suite`, e.buildArgs()...)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	failed := map[string]int64{}
	var suites []string
	required := map[string]bool{}
	for rows.Next() {
		var suite string
		var req bool
		var f int64
		if err := rows.Scan(&suite, &req, &f); err != nil {
			return c, err
		}
		if _, seen := failed[suite]; !seen {
			suites = append(suites, suite)
		}
		failed[suite] += f
		if req {
			required[suite] = true
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	var problems []string
	for _, pat := range e.cfg.Gate.RequiredSuites {
		found := false
		for _, s := range suites {
			if ok, _ := path.Match(pat, s); ok || pat == s {
				found = true
				required[s] = true
			}
		}
		if !found {
			problems = append(problems, pat+": no run")
		}
	}
	var names []string
	for s := range required {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		if failed[s] > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d failed", s, failed[s]))
		}
	}
	switch {
	case len(problems) > 0:
		c.Evidence = strings.Join(problems, "; ")
	case len(names) == 0:
		c.Passed = true
		c.Evidence = "no required suites"
	default:
		c.Passed = true
		c.Evidence = fmt.Sprintf("%d required suite(s) green: %s", len(names), strings.Join(names, ", "))
	}
	return c, nil
}

// incidents: no open incident of a blocking severity (not a false
// positive) on the service or a service it depends on.
func (e *evaluator) incidents(ctx context.Context) (Criterion, error) {
	sev := e.cfg.Gate.BlockingSeverities
	c := Criterion{Name: "open incidents"}
	rows, err := e.db.QueryContext(ctx, `
		WITH scope AS (
			SELECT $service AS service
			UNION
			SELECT unnest(depends_on) FROM services WHERE id = $service
		)
		SELECT i.id, i.service, i.severity
		FROM incidents i JOIN scope s ON s.service = i.service
		WHERE list_contains(string_split($severities, ','), i.severity)
		  AND NOT coalesce(i.is_false_positive, false)
		  AND i.opened_at <= $now AND (i.resolved_at IS NULL OR i.resolved_at > $now)
		ORDER BY i.opened_at, i.id`,
		sql.Named("service", e.opts.Service), sql.Named("severities", strings.Join(sev, ",")), sql.Named("now", e.now))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	var open []string
	for rows.Next() {
		var id, svc, s string
		if err := rows.Scan(&id, &svc, &s); err != nil {
			return c, err
		}
		where := svc
		if svc != e.opts.Service {
			where += " (dependency)"
		}
		open = append(open, fmt.Sprintf("%s %s on %s", s, id, where))
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if len(open) > 0 {
		c.Evidence = "open: " + strings.Join(open, ", ")
		return c, nil
	}
	c.Passed = true
	c.Evidence = fmt.Sprintf("no open %s incident on %s or its dependencies", strings.Join(sev, "/"), e.opts.Service)
	return c, nil
}

// changeRequest: an approved change request naming the service whose
// planned window, if any, has not ended.
func (e *evaluator) changeRequest(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "change request"}
	var ids sql.NullString
	err := e.db.QueryRowContext(ctx, `SELECT string_agg(id, ', ' ORDER BY id) FROM change_requests
		WHERE list_contains(services, $service) AND status = 'approved'
		  AND (planned_end IS NULL OR planned_end >= $now)`,
		sql.Named("service", e.opts.Service), sql.Named("now", e.now)).Scan(&ids)
	if err != nil {
		return c, err
	}
	if ids.Valid {
		c.Passed = true
		c.Evidence = "approved: " + ids.String
		return c, nil
	}
	c.Evidence = fmt.Sprintf("no approved change request names %s (status approved, window not ended)", e.opts.Service)
	return c, nil
}

// changeFailureRate over the window before now. It reads fct_deployments
// when the marts exist; otherwise it counts from the canonical tables: a
// successful production deployment failed when an incident names it
// (caused_by_deployment) or a later deployment rolls it back or fixes it.
// No deployment in the window leaves the rate undefined, which passes.
func (e *evaluator) changeFailureRate(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "change failure rate"}
	window := e.cfg.Gate.ChangeFailureWindow.D()
	from := e.now.Add(-window)
	var hasMart bool
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM (
		SELECT table_name FROM duckdb_tables() WHERE table_name = 'fct_deployments'
		UNION ALL SELECT view_name FROM duckdb_views() WHERE view_name = 'fct_deployments')`).Scan(&hasMart); err != nil {
		return c, err
	}
	args := []any{sql.Named("service", e.opts.Service), sql.Named("from", from), sql.Named("now", e.now),
		sql.Named("production", strings.Join(e.cfg.Metrics.ProductionEnvironments, ","))}
	q := `SELECT count(*), count(*) FILTER (WHERE is_failed) FROM fct_deployments
		WHERE service = $service AND is_production AND status = 'success'
		  AND finished_at >= $from AND finished_at < $now`
	basis := "fct_deployments"
	if !hasMart {
		basis = "deployments, incidents, rollbacks and hotfixes"
		q = `WITH prod AS (
			SELECT * FROM deployments
			WHERE list_contains(string_split($production, ','), environment) AND status = 'success'
		)
		SELECT count(*), count(*) FILTER (WHERE
			EXISTS (SELECT 1 FROM incidents i WHERE i.caused_by_deployment = d.id AND NOT coalesce(i.is_false_positive, false))
			OR EXISTS (SELECT 1 FROM deployments r WHERE r.rollback_of = d.id OR r.hotfix_of = d.id))
		FROM prod d
		WHERE d.service = $service AND d.finished_at >= $from AND d.finished_at < $now`
	}
	var total, failed int64
	if err := e.db.QueryRowContext(ctx, q, args...).Scan(&total, &failed); err != nil {
		return c, err
	}
	max := e.cfg.Gate.MaxChangeFailure
	days := fmt.Sprintf("%g days", window.Hours()/24)
	if total == 0 {
		c.Passed = true
		c.Evidence = fmt.Sprintf("no successful production deployments of %s in the last %s (rate undefined); maximum %s", e.opts.Service, days, pct(max))
		return c, nil
	}
	rate := float64(failed) / float64(total)
	c.Passed = rate <= max
	c.Evidence = fmt.Sprintf("%s (%d failed of %d production deployments in the last %s, from %s); maximum %s",
		pct(rate), failed, total, days, basis, pct(max))
	return c, nil
}

// freeze: no calendar freeze covering now applies to the service.
func (e *evaluator) freeze(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "freeze"}
	var in []string
	for _, f := range e.cfg.Calendar.Freezes {
		start, end, err := config.FreezeWindow(f, e.cfg.Calendar.TimeZone)
		if err != nil {
			return c, err
		}
		applies := len(f.Services) == 0
		for _, s := range f.Services {
			applies = applies || s == e.opts.Service
		}
		if applies && !e.now.Before(start) && e.now.Before(end) {
			in = append(in, fmt.Sprintf("%s (%s to %s)", f.Name, start.Format(time.RFC3339), end.Format(time.RFC3339)))
		}
	}
	if len(in) > 0 {
		c.Evidence = "in force: " + strings.Join(in, ", ")
		return c, nil
	}
	c.Passed = true
	c.Evidence = "no freeze in force for " + e.opts.Service
	return c, nil
}

func pct(f float64) string {
	s := fmt.Sprintf("%.1f%%", f*100)
	return strings.Replace(s, ".0%", "%", 1)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
