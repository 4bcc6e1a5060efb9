// Package gate evaluates the release gate policy of shiplog.yaml for one
// service and version (or commit) against the warehouse and records the
// decision in gate_decisions, so that the gate-override control can later
// find releases that went out after a NO-GO.
//
// The gate decides no rule of its own: what a test run, an open incident,
// an approved change request, a failed deployment and a freeze are comes
// from the marts (fct_test_runs, fct_incidents, fct_change_requests,
// fct_deployments, dim_freezes), so the gate and the audit controls can
// never disagree on them. The gate needs `shiplog transform` to have run;
// without the marts it says so.
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

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/marts"
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
	// ChangeRequest, when set, is the change request the release goes out
	// under: the change request criterion examines it alone instead of
	// every request naming the service.
	ChangeRequest string
	// OverrideReason, when set, turns a NO-GO into a recorded override.
	OverrideReason string
	// Actor is who asked (decided_by).
	Actor string
	// Now is the evaluation time; zero means time.Now.
	Now time.Time
}

// Criterion is one line of the decision. Measured and Threshold say, in
// short, what was found and what the policy asks, so that an audit of a
// NO-GO released anyway (the gate-override control, through
// fct_gate_decisions.failed_criteria) shows which criterion failed by how
// much without parsing the evidence sentence.
type Criterion struct {
	Name      string `json:"name"`
	Passed    bool   `json:"passed"`
	Evidence  string `json:"evidence"`
	Measured  string `json:"measured,omitempty"`
	Threshold string `json:"threshold,omitempty"`
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
	if err := marts.Require(ctx, db, "fct_test_runs", "fct_incidents", "dim_services",
		"fct_change_requests", "fct_deployments", "dim_freezes"); err != nil {
		return nil, fmt.Errorf("gate: %w", err)
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
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO gate_decisions
		(service, version, commit_sha, decision, criteria, decided_by, decided_at, override_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.Service, nullable(d.Version), nullable(d.Commit), d.Decision, string(crit), nullable(d.DecidedBy), d.DecidedAt,
		nullable(d.OverrideReason)).Scan(&d.ID)
	if err != nil {
		return err
	}
	// a mart copies gate_decisions: the log of canonical writes carries
	// the new row's change to its digest
	if err := canonical.LogDelta(ctx, tx, "gate_decisions", 1, "WHERE t.id = ?", d.ID); err != nil {
		return err
	}
	return tx.Commit()
}

type evaluator struct {
	db   *warehouse.DB
	cfg  *config.Config
	opts Options
	now  time.Time
}

// buildRuns selects the test runs of the release: same service (names are
// compared as the models key them: trimmed, lower-cased), and the version
// or the commit.
const buildRuns = `FROM fct_test_runs WHERE service = lower(trim($service))
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
	err := e.db.QueryRowContext(ctx, `SELECT count(*), sum(tests), sum(passed), sum(skipped),
		string_agg(DISTINCT coalesce(framework, 'unknown'), ', ' ORDER BY coalesce(framework, 'unknown')) `+buildRuns, e.buildArgs()...).
		Scan(&runs, &tests, &passed, &skipped, &frameworks)
	if err != nil {
		return c, err
	}
	min := e.cfg.Gate.MinPassRate
	executed := tests.Int64 - skipped.Int64
	c.Threshold = "pass rate >= " + pct(min)
	if runs == 0 || executed <= 0 {
		c.Measured = "no executed tests"
		c.Evidence = fmt.Sprintf("no executed tests recorded for %s %s (minimum pass rate %s)", e.opts.Service, e.release(), pct(min))
		return c, nil
	}
	rate := float64(passed.Int64) / float64(executed)
	c.Passed = rate >= min
	c.Measured = fmt.Sprintf("pass rate %s (%d of %d)", pct(rate), passed.Int64, executed)
	c.Evidence = fmt.Sprintf("%s passed (%d of %d executed, %d skipped) in %d run(s) of %s; minimum %s",
		pct(rate), passed.Int64, executed, skipped.Int64, runs, frameworks.String, pct(min))
	return c, nil
}

// requiredSuites: every suite named in gate.required_suites (a name or
// glob) must have a run for the release, and every required run (from the
// policy or marked at ingest) must have no failure.
func (e *evaluator) requiredSuites(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "required suites"}
	rows, err := e.db.QueryContext(ctx, `SELECT coalesce(suite, ''), required, failed `+buildRuns+` ORDER BY suite`, e.buildArgs()...)
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
	c.Threshold = "every required suite run, none failed"
	c.Measured = fmt.Sprintf("%d required suite(s) green", len(names))
	switch {
	case len(problems) > 0:
		c.Evidence = strings.Join(problems, "; ")
		c.Measured = c.Evidence
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
			SELECT lower(trim($service)) AS service
			UNION
			SELECT unnest(depends_on) FROM dim_services WHERE service = lower(trim($service))
		)
		SELECT i.incident_id, i.service, i.severity, i.service <> lower(trim($service)) AS dependency
		FROM fct_incidents i JOIN scope s ON s.service = i.service
		WHERE list_contains($severities::VARCHAR[], i.severity)
		  AND NOT i.is_false_positive
		  AND i.opened_at <= $now AND (i.resolved_at IS NULL OR i.resolved_at > $now)
		ORDER BY i.opened_at, i.incident_id`,
		sql.Named("service", e.opts.Service), sql.Named("severities", sev), sql.Named("now", e.now))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	var open []string
	for rows.Next() {
		var id, svc, s string
		var dependency bool
		if err := rows.Scan(&id, &svc, &s, &dependency); err != nil {
			return c, err
		}
		where := svc
		if dependency {
			where += " (dependency)"
		}
		open = append(open, fmt.Sprintf("%s %s on %s", s, id, where))
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Threshold = "no open " + strings.Join(sev, "/") + " incident"
	c.Measured = fmt.Sprintf("%d open", len(open))
	if len(open) > 0 {
		c.Evidence = "open: " + strings.Join(open, ", ")
		c.Measured += ": " + strings.Join(open, ", ")
		return c, nil
	}
	c.Passed = true
	c.Evidence = fmt.Sprintf("no open %s incident on %s or its dependencies", strings.Join(sev, "/"), e.opts.Service)
	return c, nil
}

// changeRequest: a change request naming the service (or the one given in
// Options.ChangeRequest) that existed by now, is approved by now and whose
// planned window, if it has one, holds now (planned_start at or before
// now, planned_end not before it): a release now would be inside it, as the
// outside-window control wants. "Approved" is the models'
// decision (fct_change_requests.is_approved and approved_at: approved at
// an instant when approved_at is NULL or not after it) — the rule
// fct_deployments.approval_state applies at a deployment's start, so the
// gate asked at that instant agrees with the unapproved-production-change
// control.
func (e *evaluator) changeRequest(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "change request"}
	rows, err := e.db.QueryContext(ctx, `
		SELECT change_request, created_at,
		       list_contains(services, lower(trim($service))) AS names_service,
		       created_at <= $now AS exists_now,
		       is_approved AND (approved_at IS NULL OR approved_at <= $now) AS approved_now,
		       CASE WHEN is_approved AND approved_at > $now THEN 'approved only after now'
		            ELSE replace(approval_state, '_', ' ') END AS state,
		       CASE WHEN planned_start > $now THEN 'not yet open' WHEN planned_end < $now THEN 'ended' END AS window
		FROM fct_change_requests
		WHERE CASE WHEN $request = '' THEN list_contains(services, lower(trim($service)))
		           ELSE change_request = $request END
		ORDER BY change_request`,
		sql.Named("service", e.opts.Service), sql.Named("request", strings.TrimSpace(e.opts.ChangeRequest)), sql.Named("now", e.now))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	var ok []string
	var why reasons
	for rows.Next() {
		var id, state string
		var created sql.NullTime
		var names, exists, approved bool
		var window sql.NullString
		if err := rows.Scan(&id, &created, &names, &exists, &approved, &state, &window); err != nil {
			return c, err
		}
		switch {
		case !names:
			why.add("does not name "+e.opts.Service, id, created.Time)
		case !exists:
			why.add("not yet raised", id, created.Time)
		case !approved:
			why.add(state, id, created.Time)
		case window.Valid:
			why.add("window "+window.String, id, created.Time)
		default:
			ok = append(ok, id)
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Threshold = "an approved change request with its window open"
	switch {
	case len(ok) > 0:
		c.Passed = true
		c.Evidence = "approved: " + strings.Join(ok, ", ")
	case e.opts.ChangeRequest != "" && len(why) == 0:
		c.Evidence = fmt.Sprintf("change request %s not found", e.opts.ChangeRequest)
	case len(why) == 0:
		c.Evidence = fmt.Sprintf("no change request names %s", e.opts.Service)
	default:
		c.Evidence = "no approved change request with its window open: " + why.String()
	}
	c.Measured = strings.TrimPrefix(c.Evidence, "no approved change request with its window open: ")
	return c, nil
}

// reasons are the change requests that do not allow a release, grouped by
// why, in the order each reason was first met.
type reasons []reason

type reason struct {
	why string
	ids []string
	at  []time.Time // when each was raised
}

// reasonsNamed is how many requests of one reason the evidence names; more
// are counted, the latest raised named (a service's requests add up over
// the years, and the gate's evidence is read on a terminal).
const reasonsNamed = 3

func (r *reasons) add(why, id string, at time.Time) {
	for i := range *r {
		if (*r)[i].why == why {
			(*r)[i].ids = append((*r)[i].ids, id)
			(*r)[i].at = append((*r)[i].at, at)
			return
		}
	}
	*r = append(*r, reason{why: why, ids: []string{id}, at: []time.Time{at}})
}

// String is "CR-1 window ended; CR-2 rejected" while each reason has few
// requests, and "window ended for 176 requests (the latest raised: CR-9,
// CR-8, CR-7)" for a reason that has more.
func (r reasons) String() string {
	var parts []string
	for _, x := range r {
		if len(x.ids) <= reasonsNamed {
			for _, id := range x.ids {
				parts = append(parts, id+" "+x.why)
			}
			continue
		}
		idx := make([]int, len(x.ids))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return x.at[idx[a]].After(x.at[idx[b]]) })
		latest := make([]string, reasonsNamed)
		for i := range latest {
			latest[i] = x.ids[idx[i]]
		}
		parts = append(parts, fmt.Sprintf("%s for %d requests (the latest raised: %s)", x.why, len(x.ids), strings.Join(latest, ", ")))
	}
	return strings.Join(parts, "; ")
}

// changeFailureRate over the window before now, from fct_deployments
// (is_failed: the full definition of a failed deployment, decided by the
// models). No deployment in the window leaves the rate undefined, which
// passes.
func (e *evaluator) changeFailureRate(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "change failure rate"}
	window := e.cfg.Gate.ChangeFailureWindow.D()
	from := e.now.Add(-window)
	var total, failed int64
	if err := e.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE is_failed) FROM fct_deployments
		WHERE service = lower(trim($service)) AND is_production AND status = 'success'
		  AND finished_at >= $from AND finished_at < $now`,
		sql.Named("service", e.opts.Service), sql.Named("from", from), sql.Named("now", e.now)).Scan(&total, &failed); err != nil {
		return c, err
	}
	max := e.cfg.Gate.MaxChangeFailure
	days := fmt.Sprintf("%g days", window.Hours()/24)
	c.Threshold = "change failure rate <= " + pct(max)
	if total == 0 {
		c.Measured = "undefined (no deployment in " + days + ")"
		c.Passed = true
		c.Evidence = fmt.Sprintf("no successful production deployments of %s in the last %s (rate undefined); maximum %s", e.opts.Service, days, pct(max))
		return c, nil
	}
	rate := float64(failed) / float64(total)
	c.Passed = rate <= max
	c.Measured = fmt.Sprintf("change failure rate %s (%d of %d)", pct(rate), failed, total)
	c.Evidence = fmt.Sprintf("%s (%d failed of %d production deployments in the last %s); maximum %s",
		pct(rate), failed, total, days, pct(max))
	return c, nil
}

// freeze: no freeze (dim_freezes: calendar.freezes as the transform
// resolved them) covering now applies to the service.
func (e *evaluator) freeze(ctx context.Context) (Criterion, error) {
	c := Criterion{Name: "freeze"}
	rows, err := e.db.QueryContext(ctx, `SELECT name, start_at, end_at FROM dim_freezes
		WHERE start_at <= $now AND $now < end_at
		  AND (len(services) = 0 OR list_contains(services, lower(trim($service))))
		ORDER BY start_at, name`, sql.Named("service", e.opts.Service), sql.Named("now", e.now))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	var in []string
	for rows.Next() {
		var name string
		var start, end time.Time
		if err := rows.Scan(&name, &start, &end); err != nil {
			return c, err
		}
		in = append(in, fmt.Sprintf("%s (%s to %s)", name, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Threshold = "no freeze in force"
	c.Measured = "none in force"
	if len(in) > 0 {
		c.Evidence = "in force: " + strings.Join(in, ", ")
		c.Measured = c.Evidence
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
