package queries

import (
	"fmt"
	"strings"

	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/sqlscan"
)

// FindingsSQL is the statement Run executes for q: for a control, only the
// rows with a rule (its findings); otherwise q.SQL.
func (q Query) FindingsSQL() string {
	if q.IsControl() {
		return "SELECT * FROM (\n" + q.SQL + "\n) AS control WHERE rule IS NOT NULL"
	}
	return q.SQL
}

// CheckedSQL is the statement Checked executes: the number of distinct
// subjects a control examined.
func (q Query) CheckedSQL() string {
	return "SELECT count(DISTINCT subject) AS checked FROM (\n" + q.SQL + "\n) AS control"
}

// ListedSQL is the statement an audit lists a control's rows with: its
// findings and the subjects that passed by override (a NO-GO released
// with a recorded reason), which an auditor reads as closely as a
// finding.
func (q Query) ListedSQL() string {
	return "SELECT * FROM (\n" + q.SQL + "\n) AS control WHERE rule IS NOT NULL OR outcome = 'override'"
}

// OutcomesSQL is the statement that sorts a control's subjects into
// outcome classes: one row per class with the number of distinct subjects
// in it. A subject with any finding (a row with a rule) is failed; a
// passing subject takes the outcome its row gives (evidence,
// pre_approved, override, not_required, not_due: the control decides it).
// A subject whose rows contradict themselves (a rule with an outcome other
// than failed, a failed outcome without a rule, no outcome) is counted as
// "invalid", which the audit refuses: the class is the control's to
// decide, and a caller must not guess it.
func (q Query) OutcomesSQL() string {
	return "SELECT outcome, count(*) AS subjects FROM (\n" +
		"SELECT subject, CASE WHEN bool_or(outcome IS NULL OR (rule IS NULL) = (outcome = 'failed')) THEN 'invalid'" +
		" WHEN count(rule) > 0 THEN 'failed' WHEN count(DISTINCT outcome) > 1 THEN 'invalid' ELSE min(outcome) END AS outcome" +
		" FROM (\n" + q.SQL + "\n) AS control GROUP BY subject\n) AS subjects GROUP BY outcome ORDER BY outcome"
}

// Inline returns text (q's SQL or one built on it, such as FindingsSQL) with
// every $name parameter of q replaced by its value as a typed SQL literal
// (sqlrun.Literal), for a client that cannot bind named parameters (Flight
// SQL). Values are converted and defaulted exactly as for Run. Parameters
// inside string literals, quoted identifiers and comments are left alone:
// the text is read with package sqlscan.
func (q Query) Inline(text string, params map[string]string) (string, error) {
	vals, err := q.values(params)
	if err != nil {
		return "", err
	}
	toks, err := sqlscan.Scan(text)
	if err != nil {
		return "", fmt.Errorf("query %s: %w", q.Name, err)
	}
	var b strings.Builder
	for _, t := range toks {
		if t.Kind != sqlscan.Param || !strings.HasPrefix(t.Text, "$") || t.Text[1] >= '0' && t.Text[1] <= '9' {
			b.WriteString(t.Text)
			continue
		}
		p, ok := q.Param(t.Value())
		if !ok {
			return "", fmt.Errorf("query %s: %s is not a declared parameter", q.Name, t.Text)
		}
		lit, err := sqlrun.Literal(p.Type, vals[p.Name])
		if err != nil {
			return "", fmt.Errorf("query %s: parameter %s: %w", q.Name, p.Name, err)
		}
		b.WriteString(lit)
	}
	return b.String(), nil
}

// Literal renders a converted parameter value (as Args gives it; nil is
// NULL) as a DuckDB literal of the parameter's type (sqlrun.Literal).
func Literal(typ string, v any) (string, error) { return sqlrun.Literal(typ, v) }
