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
}

// Control is the outcome of one control.
type Control struct {
	Name        string
	Description string
	// Version names the rule the control applied: see ControlVersion.
	Version string
	// Checked counts the subjects the control examined, Failed the findings
	// not covered by an exemption, Exempt those that are.
	Checked, Failed, Exempt int64
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
	for _, e := range cfg.Controls.Exemptions {
		res.Exemptions = append(res.Exemptions, Exemption{Exemption: e, Expired: !e.Expires.After(now)})
	}
	for _, q := range controls {
		params := map[string]string{}
		for _, p := range q.Params {
			if v, ok := all[p.Name]; ok {
				params[p.Name] = v
			}
		}
		var t *output.Table
		var checked int64
		if opts.Remote != nil {
			t, checked, err = runRemote(ctx, q, params, opts.Remote)
		} else {
			t, err = q.Run(ctx, db, params)
			if err == nil {
				checked, err = q.Checked(ctx, db, params)
			}
		}
		if err != nil {
			return nil, err
		}
		c := Control{Name: q.Name, Description: q.Description, Version: ControlVersion(q, params), Checked: checked, Columns: t.Columns}
		for _, row := range t.Rows {
			f := Finding{Values: row, Exemption: res.match(q.Name, row)}
			if f.Exemption >= 0 {
				res.Exemptions[f.Exemption].Matched++
				c.Exempt++
			} else {
				c.Failed++
			}
			c.Findings = append(c.Findings, f)
		}
		res.Controls = append(res.Controls, c)
	}
	return res, nil
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

// Summary is one row per control: name, checked, failed, exempt, status,
// version, description.
func (r *Result) Summary() *output.Table {
	t := &output.Table{Columns: []string{"control", "checked", "failed", "exempt", "status", "version", "description"}}
	for _, c := range r.Controls {
		status := "pass"
		if !c.Passed() {
			status = "FAIL"
		}
		t.Rows = append(t.Rows, []any{c.Name, c.Checked, c.Failed, c.Exempt, status, c.Version, c.Description})
	}
	return t
}

// FindingsTable returns a control's findings with an `exempt` column (the
// reason of the exemption that covers the finding, empty when none).
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
	return r.Exemptions[f.Exemption].Reason
}

// Document is the JSON form: {controls: [{name, description, version,
// checked, failed, exempt, findings: [{column: value, …, exempt,
// exemption}]}],
// exemptions: [...], from, to}.
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
			if f.Exemption >= 0 {
				rows[i]["exemption"] = r.Exemptions[f.Exemption].Reason
			}
		}
		controls = append(controls, map[string]any{
			"name": c.Name, "description": c.Description, "version": c.Version,
			"checked": c.Checked, "failed": c.Failed, "exempt": c.Exempt,
			"passed": c.Passed(), "columns": c.Columns, "findings": rows,
		})
	}
	ex := make([]any, 0, len(r.Exemptions))
	for _, e := range r.Exemptions {
		ex = append(ex, map[string]any{
			"control": e.Control, "subject": e.Subject, "reason": e.Reason,
			"expires": e.Expires.UTC().Format(time.RFC3339), "expired": e.Expired, "matched": e.Matched,
		})
	}
	doc := map[string]any{"controls": controls, "exemptions": ex, "from": nil, "to": nil, "failed": r.Failed()}
	if !r.From.IsZero() {
		doc["from"] = r.From.UTC().Format(time.RFC3339)
	}
	if !r.To.IsZero() {
		doc["to"] = r.To.UTC().Format(time.RFC3339)
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

// LongTable is the CSV form: one row per finding (control, counts, subject,
// rule, exemption, evidence as a JSON object), and one row with empty
// subject for a control without findings, so that one file carries both
// the counts and the evidence.
func (r *Result) LongTable() *output.Table {
	t := &output.Table{Columns: []string{"control", "checked", "failed", "exempt", "subject", "rule", "exemption", "evidence"}}
	for _, c := range r.Controls {
		if len(c.Findings) == 0 {
			t.Rows = append(t.Rows, []any{c.Name, c.Checked, c.Failed, c.Exempt, nil, nil, nil, nil})
			continue
		}
		rows := jsonRows(&output.Table{Columns: c.Columns, Rows: rowsOf(c)})
		for i, f := range c.Findings {
			ev, _ := json.Marshal(rows[i])
			t.Rows = append(t.Rows, []any{c.Name, c.Checked, c.Failed, c.Exempt,
				f.value(c.Columns, "subject"), f.value(c.Columns, "rule"), r.exemptionText(f), string(ev)})
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
func runRemote(ctx context.Context, q queries.Query, params map[string]string, remote func(context.Context, string) (*output.Table, error)) (*output.Table, int64, error) {
	findings, err := q.Inline(q.FindingsSQL(), params)
	if err != nil {
		return nil, 0, err
	}
	count, err := q.Inline(q.CheckedSQL(), params)
	if err != nil {
		return nil, 0, err
	}
	t, err := remote(ctx, findings)
	if err != nil {
		return nil, 0, fmt.Errorf("control %s: %w", q.Name, err)
	}
	c, err := remote(ctx, count)
	if err != nil {
		return nil, 0, fmt.Errorf("control %s: %w", q.Name, err)
	}
	if len(c.Rows) != 1 || len(c.Rows[0]) != 1 {
		return nil, 0, fmt.Errorf("control %s: counting subjects returned %d rows", q.Name, len(c.Rows))
	}
	checked, err := strconv.ParseInt(output.Text(c.Rows[0][0]), 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("control %s: subject count: %w", q.Name, err)
	}
	return t, checked, nil
}
