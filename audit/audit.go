// Package audit runs the governance controls of queries/controls for a
// period, with the parameters from shiplog.yaml, and applies the configured
// exemptions. `shiplog audit` prints its result; the audit report renders
// it.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/queries"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// Options select what to audit.
type Options struct {
	// From and To bound the period, To exclusive; zero means unbounded.
	From, To time.Time
	// Controls lists control names to run; empty runs all.
	Controls []string
	// Now decides which exemptions have expired and which emergency reviews
	// are overdue; zero means time.Now.
	Now time.Time
	// Remote, when set, runs each control's statement instead of db (which
	// may then be nil): a `shiplog serve` query endpoint, which cannot bind
	// named parameters, so the statements come with their parameters
	// written in as typed literals (queries.Query.Inline).
	Remote func(ctx context.Context, sql string) (*output.Table, error)
}

// Result is one audit.
type Result struct {
	From, To   time.Time
	Controls   []Control
	Exemptions []Exemption
	// Meta, when set (the command sets it), is printed with the result:
	// when it was made, by which shiplog, from which data.
	Meta *Meta
}

// Outcome classes: how a subject of a control came out. The passing
// classes are decided by the control's SQL (its outcome column), not
// here; exempt is a failed subject whose every finding an unexpired
// exemption of the configuration covers.
const (
	// Evidence: passed on a recorded fact (an approval before the start, a
	// review, a listed deployer, a GO decision, a deployment in its window).
	Evidence = "evidence"
	// PreApproved: passed because the rule pre-approves it (a standard
	// change under controls.pre_approved_standard), with no decision
	// recorded.
	PreApproved = "pre_approved"
	// Override: a NO-GO gate decision released with a recorded reason.
	Override = "override"
	// NotRequired: passed because the rule asked nothing of it (no planned
	// window to keep; no approving review required).
	NotRequired = "not_required"
	// NotDue: an emergency review not yet made whose due day is not over.
	NotDue = "not_due"
	// Exempt: failed, but every finding is covered by an exemption.
	Exempt = "exempt"
	// Failed: at least one finding not covered by an exemption.
	Failed = "failed"
)

// PassClasses are the passing classes in the order they are printed.
var PassClasses = []string{Evidence, PreApproved, Override, NotRequired, NotDue}

// Control is the outcome of one control.
type Control struct {
	Name        string
	Description string
	// Population names what the subjects are (production deployments,
	// change requests, changes …).
	Population string
	// Version names the rule the control applied: see ControlVersion.
	Version string
	// Checked counts the subjects the control examined, Failed the findings
	// not covered by an exemption, Exempt those that are.
	Checked, Failed, Exempt int64
	// Outcomes counts the subjects per class: every class of PassClasses,
	// Exempt and Failed, summing to Checked. Unlike Failed and Exempt
	// above (findings, of which a subject may have several) they count
	// subjects.
	Outcomes map[string]int64
	// Columns are the evidence columns of every finding, in query order.
	Columns  []string
	Findings []Finding
}

// Passed reports whether the control has no failing finding.
func (c Control) Passed() bool { return c.Failed == 0 }

// Finding is one row of a control, with its evidence.
type Finding struct {
	// Values line up with Control.Columns.
	Values []any
	// Exemption is the index in Result.Exemptions of the exemption that
	// covers it, or -1.
	Exemption int
	// Passed marks a row listed for its evidence though it passed (outcome
	// override: a NO-GO released with a recorded reason); it has no rule
	// and counts in no failure.
	Passed bool
}

// Outcome is the finding's class: exempt when an exemption covers it,
// else the control's outcome column (failed, or override for a listed
// pass).
func (f Finding) Outcome(cols []string) string {
	if f.Exemption >= 0 {
		return Exempt
	}
	if f.Passed {
		return output.Text(f.value(cols, "outcome"))
	}
	return Failed
}

// value returns the finding's value in the named column, or nil.
func (f Finding) value(cols []string, name string) any {
	for i, c := range cols {
		if c == name {
			return f.Values[i]
		}
	}
	return nil
}

// Exemption is a configured exemption and its use in this audit.
type Exemption struct {
	config.Exemption
	// ID is the configured id or EX-n (config.Exemption.ExemptionID).
	ID string
	// Expired is true when it expired before Options.Now: it covers nothing.
	Expired bool
	// Matched counts the findings it covered.
	Matched int
}

// Failed counts the non-exempt findings of every control.
func (r *Result) Failed() int64 {
	var n int64
	for _, c := range r.Controls {
		n += c.Failed
	}
	return n
}

// Params returns the control parameters for a period from the
// configuration: from, to, required_approvals, emergency_review_days and
// as_of. What production, approved, in a window or in a freeze mean is not
// a parameter: the models decide it from the configuration when
// `shiplog transform` runs, and the controls read their decisions.
func Params(cfg *config.Config, from, to, now time.Time) (map[string]string, error) {
	p := map[string]string{
		"from":                  "1970-01-01T00:00:00Z",
		"to":                    "9999-12-31T00:00:00Z",
		"required_approvals":    strconv.Itoa(cfg.Controls.RequiredApprovals),
		"emergency_review_days": strconv.Itoa(cfg.Controls.EmergencyReviewDays),
		"as_of":                 now.UTC().Format(time.RFC3339Nano),
	}
	if !from.IsZero() {
		p["from"] = from.UTC().Format(time.RFC3339Nano)
	}
	if !to.IsZero() {
		p["to"] = to.UTC().Format(time.RFC3339Nano)
	}
	return p, nil
}

// Run runs the selected controls on db and applies cfg's exemptions.
func Run(ctx context.Context, db *warehouse.DB, cfg *config.Config, opts Options) (*Result, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	controls, err := selectControls(opts.Controls)
	if err != nil {
		return nil, err
	}
	all, err := Params(cfg, opts.From, opts.To, now)
	if err != nil {
		return nil, err
	}
	if opts.Remote == nil {
		if err := marts.Require(ctx, db, "dim_services", "fct_deployments", "fct_changes",
			"fct_change_requests", "fct_gate_decisions"); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	res := &Result{From: opts.From, To: opts.To}
	for i, e := range cfg.Controls.Exemptions {
		res.Exemptions = append(res.Exemptions, Exemption{Exemption: e, ID: e.ExemptionID(i), Expired: !e.Expires.After(now)})
	}
	for _, q := range controls {
		params := map[string]string{}
		for _, p := range q.Params {
			if v, ok := all[p.Name]; ok {
				params[p.Name] = v
			}
		}
		var t *output.Table
		var classes map[string]int64
		if opts.Remote != nil {
			t, classes, err = runRemote(ctx, q, params, opts.Remote)
		} else {
			t, err = q.Listed(ctx, db, params)
			if err == nil {
				classes, err = q.Outcomes(ctx, db, params)
			}
		}
		if err != nil {
			return nil, err
		}
		c := Control{Name: q.Name, Description: q.Description, Population: q.Population,
			Version: ControlVersion(q, params), Columns: t.Columns}
		// subject → whether any of its findings is not exempt
		failing := map[string]bool{}
		var order []string
		for _, row := range t.Rows {
			if (Finding{Values: row}).value(c.Columns, "rule") == nil {
				// a pass listed for its evidence (an override)
				c.Findings = append(c.Findings, Finding{Values: row, Exemption: -1, Passed: true})
				continue
			}
			f := Finding{Values: row, Exemption: res.match(q.Name, row)}
			if f.Exemption >= 0 {
				res.Exemptions[f.Exemption].Matched++
				c.Exempt++
			} else {
				c.Failed++
			}
			subj := output.Text(f.value(c.Columns, "subject"))
			if _, seen := failing[subj]; !seen {
				order = append(order, subj)
			}
			failing[subj] = failing[subj] || f.Exemption < 0
			c.Findings = append(c.Findings, f)
		}
		if c.Outcomes, err = outcomes(q.Name, classes, failing); err != nil {
			return nil, err
		}
		for _, n := range c.Outcomes {
			c.Checked += n
		}
		res.Controls = append(res.Controls, c)
	}
	return res, nil
}

// outcomes checks the control's class counts (subjects per outcome, from
// OutcomesSQL) against its findings and splits the failed subjects into
// exempt and failed. A class the audit does not know, a subject the
// control could not classify, or failed subjects that are not the
// subjects of its findings are errors: the control decides the class, and
// an audit must not print a count it cannot stand behind.
func outcomes(control string, classes map[string]int64, failing map[string]bool) (map[string]int64, error) {
	out := map[string]int64{Exempt: 0, Failed: 0}
	for _, k := range PassClasses {
		out[k] = 0
	}
	for k, n := range classes {
		switch {
		case k == "invalid":
			return nil, fmt.Errorf("control %s: %d subject(s) with contradictory rows (a rule with a passing outcome, a failed outcome without a rule, or no outcome)", control, n)
		case k == Failed:
			if n != int64(len(failing)) {
				return nil, fmt.Errorf("control %s: %d failed subject(s) counted, %d with findings", control, n, len(failing))
			}
		default:
			if _, ok := out[k]; !ok || k == Exempt {
				return nil, fmt.Errorf("control %s: unknown outcome %q (want one of %s, failed)", control, k, strings.Join(PassClasses, ", "))
			}
			out[k] = n
		}
	}
	if classes[Failed] == 0 && len(failing) > 0 {
		return nil, fmt.Errorf("control %s: %d subject(s) with findings, none counted failed", control, len(failing))
	}
	for _, bad := range failing {
		if bad {
			out[Failed]++
		} else {
			out[Exempt]++
		}
	}
	return out, nil
}

// periodParams are the parameters that say when, not what: the period and
// the clock. They change with every audit and are left out of a control's
// version.
var periodParams = map[string]bool{"from": true, "to": true, "as_of": true}

// ControlVersion is a short hash of what decides a control's outcome: its
// SQL and the values of its other parameters (name, declared type, and the
// value given in params or else the declared default, so that a value
// equal to the default counts as the default). Two audits with the same
// version applied the same rule, whatever their periods; a changed query
// or configuration (required approvals, freezes …) changes it. It is the
// first 12 hex digits of SHA-256 over the length-prefixed parts, so that
// no two different inputs run together alike.
func ControlVersion(q queries.Query, params map[string]string) string {
	h := sha256.New()
	put := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	put(q.SQL)
	for _, p := range q.Params {
		if periodParams[p.Name] {
			continue
		}
		put(p.Name)
		put(p.Type)
		switch v, ok := params[p.Name]; {
		case ok:
			put("=" + v)
		case p.Null:
			put("null")
		default:
			put("=" + p.Default)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// match returns the first unexpired exemption for control whose subject is
// "*" or equals one of the finding's values (its subject, deployment,
// change request, service, person …), or -1.
func (r *Result) match(control string, row []any) int {
	for i, e := range r.Exemptions {
		if e.Expired || e.Control != control {
			continue
		}
		if e.Subject == "*" {
			return i
		}
		for _, v := range row {
			if s, ok := v.(string); ok && s == e.Subject {
				return i
			}
		}
	}
	return -1
}

func selectControls(names []string) ([]queries.Query, error) {
	var all []queries.Query
	for _, q := range queries.List() {
		if q.IsControl() {
			all = append(all, q)
		}
	}
	// DESIGN.md's order; controls added later follow by name.
	rank := func(name string) int {
		for i, n := range config.ControlNames {
			if n == name {
				return i
			}
		}
		return len(config.ControlNames)
	}
	sort.SliceStable(all, func(i, j int) bool { return rank(all[i].Name) < rank(all[j].Name) })
	if len(names) == 0 {
		return all, nil
	}
	var out []queries.Query
	for _, n := range names {
		q, ok := queries.Get(n)
		if !ok || !q.IsControl() {
			known := make([]string, len(all))
			for i, c := range all {
				known[i] = c.Name
			}
			return nil, fmt.Errorf("no control named %q (controls: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, q)
	}
	return out, nil
}

// Summary is one row per control: name, population, checked, then the
// subjects per outcome class (passed_evidence, passed_pre_approved,
// passed_override, passed_not_required, passed_not_due, exempt, failed), findings (rows; a subject may
// have several), status, version, description.
func (r *Result) Summary() *output.Table {
	cols := []string{"control", "population", "checked"}
	cols = append(cols, passColumns()...)
	cols = append(cols, Exempt, Failed, "findings", "status", "version", "description")
	t := &output.Table{Columns: cols}
	// On a terminal, what an auditor reads first: how many were checked,
	// failed and exempt, then how the rest passed.
	t.Primary = append([]string{"control", "checked", Failed, Exempt}, passColumns()...)
	t.Primary = append(t.Primary, "status", "population")
	for _, c := range r.Controls {
		status := "pass"
		if !c.Passed() {
			status = "FAIL"
		}
		row := []any{c.Name, c.Population, c.Checked}
		for _, k := range PassClasses {
			row = append(row, c.Outcomes[k])
		}
		row = append(row, c.Outcomes[Exempt], c.Outcomes[Failed], int64(len(c.Findings)), status, c.Version, c.Description)
		t.Rows = append(t.Rows, row)
	}
	return t
}

// passColumns name the passing classes as table columns: passed_evidence,
// passed_pre_approved …
func passColumns() []string {
	out := make([]string, len(PassClasses))
	for i, k := range PassClasses {
		out[i] = "passed_" + k
	}
	return out
}

// Population is one kind of subject and the controls that examine it.
type Population struct {
	// Name is the controls' population header (production deployments …).
	Name string
	// Subjects is the largest number any of its controls checked: the
	// population of the period (controls that examine part of it, such as
	// rollbacks, check fewer).
	Subjects int64
	// Controls names its controls; Failed and Exempt sum their failed and
	// exempt subjects (one subject failing two controls counts twice).
	Controls       []string
	Failed, Exempt int64
	// Note says how the population is counted where a reader may compare
	// it with another report.
	Note string
}

// PopulationNotes explain populations whose size differs from a figure
// elsewhere in shiplog.
var PopulationNotes = map[string]string{
	"production deployments": "every production deployment that finished in the period, successful or failed: a failed attempt still changed production and needs an approved change request; leadership's deployment frequency counts successful ones only, so it is smaller by the failed attempts",
}

// Populations groups the controls by population, in the order the
// controls run. Totals are given per population and never added across
// them: deployments, change requests and changes are different things.
func (r *Result) Populations() []Population {
	var out []Population
	idx := map[string]int{}
	for _, c := range r.Controls {
		name := c.Population
		if name == "" {
			name = "subjects of " + c.Name
		}
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, Population{Name: name, Note: PopulationNotes[name]})
		}
		p := &out[i]
		if c.Checked > p.Subjects {
			p.Subjects = c.Checked
		}
		p.Controls = append(p.Controls, c.Name)
		p.Failed += c.Outcomes[Failed]
		p.Exempt += c.Outcomes[Exempt]
	}
	return out
}

// FindingsTable returns a control's findings with an `exempt` column (the
// exemption that covers the finding: its id, expiry and reason; empty when
// none).
func (r *Result) FindingsTable(c Control) *output.Table {
	t := &output.Table{Columns: append(append([]string{}, c.Columns...), "exempt")}
	for _, f := range c.Findings {
		row := append(append([]any{}, f.Values...), r.exemptionText(f))
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (r *Result) exemptionText(f Finding) any {
	if f.Exemption < 0 {
		return nil
	}
	e := r.Exemptions[f.Exemption]
	return fmt.Sprintf("%s (expires %s): %s", e.ID, e.Expires.UTC().Format("2006-01-02"), e.Reason)
}

// Document is the JSON form: {controls: [{name, description, population,
// version, checked, failed, exempt, outcomes: {class: subjects}, passed,
// columns, findings: [{column: value, …, outcome, exempt, exemption,
// exemption_id, exemption_expires}]}], populations: [...], exemptions:
// [...], from, to, failed} and, when Meta is set, generated_at,
// shiplog_version and warehouse.
func (r *Result) Document() map[string]any {
	controls := make([]any, 0, len(r.Controls))
	for _, c := range r.Controls {
		t := &output.Table{Columns: c.Columns}
		for _, f := range c.Findings {
			t.Rows = append(t.Rows, f.Values)
		}
		rows := jsonRows(t)
		for i, f := range c.Findings {
			rows[i]["exempt"] = f.Exemption >= 0
			rows[i]["outcome"] = f.Outcome(c.Columns)
			if f.Exemption >= 0 {
				e := r.Exemptions[f.Exemption]
				rows[i]["exemption"] = e.Reason
				rows[i]["exemption_id"] = e.ID
				rows[i]["exemption_expires"] = e.Expires.UTC().Format(time.RFC3339)
			}
		}
		outcomes := map[string]any{}
		for k, n := range c.Outcomes {
			outcomes[k] = n
		}
		controls = append(controls, map[string]any{
			"name": c.Name, "description": c.Description, "population": c.Population, "version": c.Version,
			"checked": c.Checked, "failed": c.Failed, "exempt": c.Exempt, "outcomes": outcomes,
			"passed": c.Passed(), "columns": c.Columns, "findings": rows,
		})
	}
	ex := make([]any, 0, len(r.Exemptions))
	for _, e := range r.Exemptions {
		ex = append(ex, map[string]any{
			"id": e.ID, "control": e.Control, "subject": e.Subject, "reason": e.Reason,
			"expires": e.Expires.UTC().Format(time.RFC3339), "expired": e.Expired, "matched": e.Matched,
		})
	}
	pops := make([]any, 0)
	for _, p := range r.Populations() {
		m := map[string]any{"name": p.Name, "subjects": p.Subjects, "controls": p.Controls, "failed": p.Failed, "exempt": p.Exempt}
		if p.Note != "" {
			m["note"] = p.Note
		}
		pops = append(pops, m)
	}
	doc := map[string]any{"controls": controls, "populations": pops, "exemptions": ex, "from": nil, "to": nil, "failed": r.Failed()}
	if !r.From.IsZero() {
		doc["from"] = r.From.UTC().Format(time.RFC3339)
	}
	if !r.To.IsZero() {
		doc["to"] = r.To.UTC().Format(time.RFC3339)
	}
	if r.Meta != nil {
		doc["generated_at"] = r.Meta.GeneratedAt.UTC().Format(time.RFC3339)
		doc["shiplog_version"] = r.Meta.Version
		doc["warehouse"] = r.Meta.Warehouse.Document()
	}
	return doc
}

// jsonRows converts a table to JSON-ready objects through output's JSON
// encoding, so that times, lists and numbers look the same as everywhere.
func jsonRows(t *output.Table) []map[string]any {
	var buf strings.Builder
	_ = output.WriteJSON(&buf, t, nil)
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	_ = json.Unmarshal([]byte(buf.String()), &doc)
	if doc.Rows == nil {
		doc.Rows = []map[string]any{}
	}
	return doc.Rows
}

// LongTable is the CSV form: one row per finding and one row with an
// empty subject for a control without findings, so that one file carries
// the period, the counts and the evidence. Columns: from, to,
// generated_at, shiplog_version, warehouse_fingerprint (empty without
// Meta), control, population, version, checked, the subjects per outcome
// class (passed_evidence … exempt, failed), findings, subject, rule, outcome (failed or exempt),
// exemption_id, exemption, exemption_expires, evidence (a JSON object).
func (r *Result) LongTable() *output.Table {
	cols := []string{"from", "to", "generated_at", "shiplog_version", "warehouse_fingerprint", "control", "population", "version", "checked"}
	cols = append(cols, passColumns()...)
	cols = append(cols, Exempt, Failed, "findings", "subject", "rule", "outcome", "exemption_id", "exemption", "exemption_expires", "evidence")
	t := &output.Table{Columns: cols}
	var meta []any
	at := func(x time.Time) any {
		if x.IsZero() {
			return nil
		}
		return x.UTC()
	}
	if r.Meta != nil {
		meta = []any{at(r.From), at(r.To), r.Meta.GeneratedAt.UTC(), r.Meta.Version, r.Meta.Warehouse.Hash}
	} else {
		meta = []any{at(r.From), at(r.To), nil, nil, nil}
	}
	for _, c := range r.Controls {
		head := append(append([]any{}, meta...), c.Name, c.Population, c.Version, c.Checked)
		for _, k := range PassClasses {
			head = append(head, c.Outcomes[k])
		}
		head = append(head, c.Outcomes[Exempt], c.Outcomes[Failed], int64(len(c.Findings)))
		if len(c.Findings) == 0 {
			t.Rows = append(t.Rows, append(append([]any{}, head...), nil, nil, nil, nil, nil, nil, nil))
			continue
		}
		rows := jsonRows(&output.Table{Columns: c.Columns, Rows: rowsOf(c)})
		for i, f := range c.Findings {
			ev, _ := json.Marshal(rows[i])
			outcome, id, reason, expires := any(f.Outcome(c.Columns)), any(nil), any(nil), any(nil)
			if f.Exemption >= 0 {
				e := r.Exemptions[f.Exemption]
				outcome, id, reason, expires = Exempt, e.ID, e.Reason, e.Expires.UTC()
			}
			t.Rows = append(t.Rows, append(append([]any{}, head...),
				f.value(c.Columns, "subject"), f.value(c.Columns, "rule"), outcome, id, reason, expires, string(ev)))
		}
	}
	return t
}

func rowsOf(c Control) [][]any {
	out := make([][]any, len(c.Findings))
	for i, f := range c.Findings {
		out[i] = f.Values
	}
	return out
}

// runRemote runs a control's findings and subject count through remote.
func runRemote(ctx context.Context, q queries.Query, params map[string]string, remote func(context.Context, string) (*output.Table, error)) (*output.Table, map[string]int64, error) {
	findings, err := q.Inline(q.ListedSQL(), params)
	if err != nil {
		return nil, nil, err
	}
	count, err := q.Inline(q.OutcomesSQL(), params)
	if err != nil {
		return nil, nil, err
	}
	t, err := remote(ctx, findings)
	if err != nil {
		return nil, nil, fmt.Errorf("control %s: %w", q.Name, err)
	}
	c, err := remote(ctx, count)
	if err != nil {
		return nil, nil, fmt.Errorf("control %s: %w", q.Name, err)
	}
	classes, err := queries.OutcomeCounts(q.Name, c)
	if err != nil {
		return nil, nil, err
	}
	return t, classes, nil
}
