package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/output"
)

// audit writes the audit report: every control with its pass/fail counts
// and findings, and the fingerprint of the data it was built from.
func (w *writer) audit(ctx context.Context) error {
	spec, err := dashboards.Find("audit", w.opts.Dashboards...)
	if err != nil {
		return err
	}
	results, err := w.data.Audit(ctx, w.from, w.to)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	who := "Organisation"
	if w.opts.Team != "" {
		// Controls are organisation-wide: a team filter does not apply.
		who = "Organisation (controls are not filtered by team)"
	}
	pg := newPage("Governance audit", who, w.from, w.to, w.opts.Now)

	// Evidence tables first: their hash is the fingerprint.
	sc := scope{Team: w.opts.Team, From: w.from, To: w.to}
	h := sha256.New()
	var evidence []block
	for _, p := range spec.Panels {
		t, err := w.panelTable(ctx, p, sc)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		fingerprintTable(h, p.Query, t)
		b, err := pg.renderPanel(p, t)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		evidence = append(evidence, b)
	}
	pg.Facts = []fact{
		{"Period", w.from.Format(time.RFC3339) + " to " + w.to.Format(time.RFC3339) + " (end excluded)"},
		{"Generated", w.opts.Now.Format(time.RFC3339)},
		{"Data fingerprint", "sha256:" + hex.EncodeToString(h.Sum(nil))},
	}

	var checked, failed int64
	withFindings := 0
	summary := &output.Table{Columns: []string{"control", "checked", "passed", "failed"}}
	for _, r := range results {
		checked += r.Checked
		failed += r.Failed
		if r.Failed > 0 {
			withFindings++
		}
		summary.Rows = append(summary.Rows, []any{r.Control, r.Checked, r.Checked - r.Failed, r.Failed})
	}
	switch {
	case len(results) == 0:
		pg.Summary = []string{"No governance control was run."}
	case failed == 0:
		pg.Summary = []string{fmt.Sprintf("All %s passed: %s checked, no findings.", pluralCount(int64(len(results)), "control", "controls"), pluralCount(checked, "item", "items"))}
	default:
		pg.Summary = []string{fmt.Sprintf("%d of %s found problems: %s out of %s checked.",
			withFindings, pluralCount(int64(len(results)), "control", "controls"), pluralCount(failed, "finding", "findings"), strconv.FormatInt(checked, 10))}
	}
	if len(results) > 0 {
		b, err := pg.renderPanel(dashboards.Panel{Title: "Controls", Description: "Items each control checked in the period, passed and failed.",
			Query: "audit", Chart: dashboards.StackedBar, X: "control", Y: []string{"passed", "failed"}, Colors: []string{"#1a7f37", "#cf222e"}}, summary)
		if err != nil {
			return err
		}
		b.TableOpen = true
		pg.Blocks = append(pg.Blocks, b)
	}
	for _, r := range results {
		status := "pass"
		if r.Failed > 0 {
			status = "fail"
		}
		b := block{Heading: r.Control, Status: status, Text: r.Description, TableOpen: true}
		b.Tiles = []tile{
			{Label: "Checked", Value: strconv.FormatInt(r.Checked, 10)},
			{Label: "Passed", Value: strconv.FormatInt(r.Checked-r.Failed, 10)},
			{Label: "Failed", Value: strconv.FormatInt(r.Failed, 10)},
		}
		if r.Findings == nil || len(r.Findings.Rows) == 0 {
			b.Empty = "No findings."
		} else {
			t, err := htmlTableOf(r.Findings, nil, findingsShown)
			if err != nil {
				return err
			}
			b.Table = t
			if n := len(r.Findings.Rows); n > findingsShown {
				// every finding stays in the evidence, as CSV beside the page
				file := "audit-findings-" + fileSlug(r.Control) + ".csv"
				var buf bytes.Buffer
				if err := output.WriteCSV(&buf, r.Findings); err != nil {
					return err
				}
				w.extras = append(w.extras, rendered{file: file, body: buf.Bytes()})
				b.Text += fmt.Sprintf(" The first %d of %d findings are shown; all are in %s beside this page.", findingsShown, n, file)
			}
		}
		pg.Blocks = append(pg.Blocks, b)
	}
	pg.Blocks = append(pg.Blocks, evidence...)
	body, err := pg.render()
	if err != nil {
		return err
	}
	w.add("audit.html", "Governance audit", Audit, body)
	return nil
}

// findingsShown caps each control's findings table on the page: a control
// failing on every deployment of a large organisation would otherwise make
// the page tens of megabytes. The full list goes to a CSV file beside it.
const findingsShown = 1000

// fileSlug keeps letters, digits and dashes of a name for a file name.
func fileSlug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// fingerprintTable feeds a table to h unambiguously: every value is
// length-prefixed, so no two different tables hash alike.
func fingerprintTable(h interface{ Write([]byte) (int, error) }, name string, t *output.Table) {
	put := func(s string) {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	put(name)
	put(strconv.Itoa(len(t.Columns)))
	for _, c := range t.Columns {
		put(c)
	}
	put(strconv.Itoa(len(t.Rows)))
	for _, r := range t.Rows {
		for _, v := range r {
			put(output.Text(v))
		}
	}
}
