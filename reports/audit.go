package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/output"
)

// audit writes the audit report: a cover page to sign, every control with
// its pass/fail counts and findings, and the fingerprint of the data it
// was built from.
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
	pg := w.newPage("Governance audit", who, "")

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
		if p.Chart == dashboards.Table && b.Table != nil {
			// Printed evidence: laid out like the findings, so that it fits
			// the page whatever its columns.
			sub, err := selectColumns(t, p.Columns)
			if err != nil {
				return fmt.Errorf("audit: panel %q: %w", p.Title, err)
			}
			b.Table, b.Evidence = nil, evidenceOf(sub, p.Limit)
		}
		evidence = append(evidence, b)
	}
	pg.Facts = []fact{
		{"Period", w.from.Format(time.RFC3339) + " to " + w.to.Format(time.RFC3339) + " (end excluded)"},
		{"Generated", w.opts.Now.Format(time.RFC3339)},
		{"Data fingerprint", "sha256:" + hex.EncodeToString(h.Sum(nil))},
	}
	// What the data covers, on the cover too: an auditor signs for a
	// period, and must see when it had no or partial data.
	if pg.PeriodNote != "" {
		pg.Facts = append(pg.Facts, fact{"Period chosen", pg.PeriodNote})
	}
	if pg.Notice != "" {
		pg.Facts = append(pg.Facts, fact{"Period coverage", pg.Notice})
	}
	pg.Facts = append(pg.Facts, fact{"Data", pg.DataLine})
	if pg.Stale != "" {
		pg.Facts = append(pg.Facts, fact{"Warning", pg.Stale})
	}
	pg.Cover = newCover(who, pg.Facts, results)

	// The headline counts per population: deployments, change requests
	// and changes are different things and are never added together.
	summary := &output.Table{Columns: []string{"control", "version", "checked", "by evidence",
		"pre-approved", "override", "not required", "not due", "exempt", "failed"}}
	type population struct {
		name             string
		items            int64
		findings         int64
		controls, failed []string
	}
	var pops []*population
	for _, r := range results {
		o := outcomesOf(r)
		summary.Rows = append(summary.Rows, []any{r.Control, r.Version, r.Checked, o["evidence"],
			o["pre_approved"], o["override"], o["not_required"], o["not_due"], o["exempt"], o["failed"]})
		name := r.Population
		if name == "" {
			name = "items of " + r.Control
		}
		var p *population
		for _, q := range pops {
			if q.name == name {
				p = q
			}
		}
		if p == nil {
			p = &population{name: name}
			pops = append(pops, p)
		}
		if r.Checked > p.items {
			p.items = r.Checked
		}
		p.controls = append(p.controls, r.Control)
		if r.Failed > 0 {
			p.findings += r.Failed
			p.failed = append(p.failed, r.Control)
		}
	}
	if len(results) == 0 {
		pg.Summary = []string{"No governance control was run."}
	}
	for _, p := range pops {
		line := fmt.Sprintf("%s %s: ", upperFirst(p.name), fmt.Sprintf("(%d checked by %s)", p.items, pluralCount(int64(len(p.controls)), "control", "controls")))
		if p.findings == 0 {
			line += "no findings."
		} else {
			line += fmt.Sprintf("%s in %s.", pluralCount(p.findings, "finding", "findings"), strings.Join(p.failed, ", "))
		}
		if note, ok := populationNotes[p.name]; ok {
			line += " " + note
		}
		pg.Summary = append(pg.Summary, line)
	}
	if len(results) > 0 {
		t, err := htmlTableOf(summary, nil, 0)
		if err != nil {
			return err
		}
		c, err := pg.controlsChart(results)
		if err != nil {
			return err
		}
		pg.Blocks = append(pg.Blocks, block{Heading: "Controls",
			Text: "Items each control checked in the period (grey) and how many of them failed (red), on a logarithmic scale so that a single finding among hundreds of items still shows; a control without a red mark had no findings. " +
				"The table has the exact counts, each item in one class: passed by evidence (a recorded approval, review, window, allowed deployer, GO decision), pre-approved (a standard change, no decision needed), " +
				"override (a NO-GO released with a recorded reason, listed with the findings), not required (nothing was asked of it, such as a deployment without a planned window), not due (a review whose due day is not over), exempt (covered by a configured exemption) or failed.",
			Chart: c, Table: t, TableOpen: true})
	}
	for _, r := range results {
		status := "pass"
		if r.Failed > 0 {
			status = "fail"
		}
		b := block{Heading: r.Control, Status: status, Text: r.Description, TableOpen: true}
		o := outcomesOf(r)
		b.Tiles = []tile{{Label: "Checked", Value: strconv.FormatInt(r.Checked, 10)}}
		for _, c := range outcomeTiles {
			if n := o[c.class]; n > 0 || c.always {
				b.Tiles = append(b.Tiles, tile{Label: c.label, Value: strconv.FormatInt(n, 10)})
			}
		}
		if r.Findings == nil || len(r.Findings.Rows) == 0 {
			b.Empty = "No findings."
		} else {
			b.Evidence = evidenceOf(r.Findings, findingsShown)
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
	return w.addPage(pg, "audit.html", "Governance audit", Audit)
}

// outcomeTiles are the outcome classes a control's block shows; a class
// that is not always shown appears when it has items.
var outcomeTiles = []struct {
	class, label string
	always       bool
}{
	{"evidence", "Passed by evidence", true},
	{"pre_approved", "Pre-approved (standard)", false},
	{"override", "Released by override", false},
	{"not_required", "Nothing required", false},
	{"not_due", "Not yet due", false},
	{"exempt", "Exempt", false},
	{"failed", "Failed", true},
}

// populationNotes explain how a population is counted where a reader may
// compare it with another page.
var populationNotes = map[string]string{
	"production deployments": "Failed attempts are included: each changed production and needs an approved change request, so this count is larger than the leadership report's deployments, which are successful ones only.",
}

// outcomesOf is the control's outcome classes, or, when the data layer
// gave none, every item not failed counted as passed by evidence.
func outcomesOf(r ControlResult) map[string]int64 {
	if r.Outcomes != nil {
		return r.Outcomes
	}
	return map[string]int64{"evidence": r.Checked - r.Failed, "failed": r.Failed}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// findingsShown caps each control's findings table on the page: a control
// failing on every deployment of a large organisation would otherwise make
// the page tens of megabytes. The full list goes to a CSV file beside it.
const findingsShown = 1000

// cover is the first printed page of the audit report: what was audited,
// with which rules, and lines for the people who sign it off.
type cover struct {
	Title, Scope string
	Facts        []fact
	Controls     []coverControl
	// SignOff are the roles that sign, one line each.
	SignOff []string
}

type coverControl struct {
	Name, Version, Description string
	Result                     string
	Failed                     bool
}

func newCover(scope string, facts []fact, results []ControlResult) *cover {
	c := &cover{Title: "Governance audit", Scope: scope, Facts: facts,
		SignOff: []string{"Prepared by", "Reviewed by", "Approved by"}}
	for _, r := range results {
		v := r.Version
		if v == "" {
			v = "—"
		}
		c.Controls = append(c.Controls, coverControl{Name: r.Control, Version: v, Description: r.Description,
			Result: fmt.Sprintf("%d of %d failed", r.Failed, r.Checked), Failed: r.Failed > 0})
	}
	return c
}

// controlsChart draws, per control, the items checked and the findings as
// dots on a logarithmic axis (a dot plot): one finding among five hundred
// items sits a whole decade and more from them instead of being a sliver
// next to a long bar, and every control's name has a row of its own. Bars
// would not do: ECharts starts bars on a log axis at 1, so a count of 1
// would have no length. The option is written here, not from a dashboard
// panel: the dashboard charts have no log axis.
func (pg *page) controlsChart(results []ControlResult) (*chartView, error) {
	names := make([]string, len(results))
	var checked, failed []any
	maxV := 1.0
	for i, r := range results {
		names[i] = r.Control
		if r.Checked > 0 {
			checked = append(checked, []any{r.Checked, i})
		}
		if r.Failed > 0 {
			failed = append(failed, []any{r.Failed, i})
		}
		maxV = math.Max(maxV, float64(r.Checked))
	}
	series := func(name, color, symbol string, data []any) map[string]any {
		if data == nil {
			data = []any{}
		}
		return map[string]any{"name": name, "type": "scatter", "data": data, "symbol": symbol, "symbolSize": 13,
			"itemStyle": map[string]any{"color": color, "opacity": 1},
			"label":     map[string]any{"show": true, "position": "right", "formatter": "{@[0]}", "color": "#1b1f24", "fontSize": 14}}
	}
	option := map[string]any{
		"animation": false,
		"aria":      map[string]any{"enabled": true},
		"tooltip":   map[string]any{"show": true, "trigger": "item", "formatter": "{a}: {@[0]}"},
		"legend":    map[string]any{"show": true, "bottom": 0, "data": []string{"Checked", "Failed"}, "textStyle": map[string]any{"fontSize": 13}},
		"grid":      map[string]any{"left": 8, "right": 40, "top": 10, "bottom": 64, "containLabel": true},
		"xAxis": map[string]any{
			"type": "log", "logBase": 10,
			// From 0.5, so that a count of 1 stands clear of the axis.
			"min": 0.5, "max": math.Pow(10, math.Ceil(math.Log10(maxV*1.5))),
			"name": "items (logarithmic scale)", "nameLocation": "middle", "nameGap": 30, "nameTextStyle": map[string]any{"fontSize": 13},
			"axisLabel": map[string]any{"showMinLabel": false, "fontSize": 13},
			"splitLine": map[string]any{"show": true},
		},
		"yAxis": map[string]any{
			"type": "category", "inverse": true, "data": names,
			"axisLabel": map[string]any{"interval": 0, "fontSize": 15, "color": "#1b1f24"},
			"splitLine": map[string]any{"show": true, "lineStyle": map[string]any{"type": "dotted"}},
		},
		"series": []any{
			series("Checked", "#57606a", "circle", checked),
			series("Failed", "#cf222e", "diamond", failed),
		},
	}
	js, err := optionJSON(option)
	if err != nil {
		return nil, fmt.Errorf("controls chart: %w", err)
	}
	pg.charts++
	id := fmt.Sprintf("chart-%d", pg.charts)
	// One row per control: the chart grows with the controls.
	pg.ChartHeights = append(pg.ChartHeights, chartHeight{ID: id, Px: 100 + 34*len(results)})
	return &chartView{ID: id, Option: js, Label: "Controls: items checked and failed, logarithmic scale"}, nil
}

// evidenceLine is how many columns of a findings table share a line. A
// finding with more columns is split over several lines, so that a table
// of any width fits the page (A4 and Letter, portrait) without scrolling
// and without cutting off a column.
const evidenceLine = 8

// evidenceTable is a control's findings, each finding one group of lines.
type evidenceTable struct {
	// Head holds the column labels, line by line.
	Head [][]string
	// Rows holds, per finding, its cells line by line.
	Rows [][][]cell
	// Lines is the number of lines per finding.
	Lines int
	More  int
}

// evidenceOf lays out findings: the subject and the rule first (what and
// why), then the evidence in the control's order, the exemption last;
// then split into lines of at most evidenceLine columns of nearly equal
// count. The CSV beside the page keeps the control's own order.
func evidenceOf(t *output.Table, limit int) *evidenceTable {
	var order []int
	for _, name := range []string{"subject", "rule"} {
		if i := colIndex(t, name); i >= 0 {
			order = append(order, i)
		}
	}
	last := colIndex(t, "exempt")
	for i, c := range t.Columns {
		if c != "subject" && c != "rule" && i != last {
			order = append(order, i)
		}
	}
	if last >= 0 {
		order = append(order, last)
	}
	n := len(order)
	lines := (n + evidenceLine - 1) / evidenceLine
	if lines < 1 {
		lines = 1
	}
	per := (n + lines - 1) / lines
	split := func(k int) (int, int) { return k * per, min((k+1)*per, n) }

	et := &evidenceTable{Lines: lines}
	for k := 0; k < lines; k++ {
		lo, hi := split(k)
		var head []string
		for _, i := range order[lo:hi] {
			head = append(head, label(t.Columns[i]))
		}
		et.Head = append(et.Head, head)
	}
	for r, row := range t.Rows {
		if limit > 0 && r == limit {
			et.More = len(t.Rows) - limit
			break
		}
		var f [][]cell
		for k := 0; k < lines; k++ {
			lo, hi := split(k)
			var line []cell
			for _, i := range order[lo:hi] {
				c := evidenceCell(t.Columns[i], row[i])
				c.Label = label(t.Columns[i])
				line = append(line, c)
			}
			f = append(f, line)
		}
		et.Rows = append(et.Rows, f)
	}
	// Pad short lines so that every line has a cell under each column.
	for k := range et.Head {
		for len(et.Head[k]) < per {
			et.Head[k] = append(et.Head[k], "")
		}
	}
	for _, f := range et.Rows {
		for k := range f {
			for len(f[k]) < per {
				f[k] = append(f[k], cell{})
			}
		}
	}
	return et
}

// evidenceCell shows a value as the tables do, and a list as its items
// separated by commas, which wrap where a JSON array would not.
func evidenceCell(col string, v any) cell {
	var c cell
	if l, ok := v.([]any); ok {
		items := make([]string, len(l))
		for i, x := range l {
			items[i] = evidenceText(col, x)
		}
		c.Text = strings.Join(items, ", ")
		if len(l) == 0 {
			c.Text = "none"
		}
	} else {
		c.Text = evidenceText(col, v)
		_, c.Num = number(v)
	}
	c.Break = longToken(c.Text)
	return c
}

// evidenceText is a value as the tables show it, except that times keep
// their seconds: an auditor compares an approval with a deployment's start
// to the second.
func evidenceText(col string, v any) string {
	if t, ok := v.(time.Time); ok {
		return category(t)
	}
	return cellText(nil, col, v)
}

// longToken reports whether text has a run longer than breakAfter
// characters that a browser would not wrap (no space, no hyphen): commit
// hashes, URLs, long identifiers. Only such cells may be broken anywhere;
// letting every cell break anywhere would let the table squeeze short
// words ("success") into two lines.
func longToken(text string) bool {
	run := 0
	for _, r := range text {
		switch {
		case r == ' ' || r == '-' || r == '\n' || r == '\t':
			run = 0
		default:
			run++
			if run > breakAfter {
				return true
			}
		}
	}
	return false
}

// breakAfter bounds the width a column of an evidence line can insist on,
// so that evidenceLine columns fit the printed page: 12 characters of 8 pt
// type and a cell's padding, eight times, is under the 186 mm of an A4
// page between 12 mm margins.
const breakAfter = 12

// selectColumns returns t with only the named columns, in that order (all
// when none are named).
func selectColumns(t *output.Table, columns []string) (*output.Table, error) {
	if len(columns) == 0 {
		return t, nil
	}
	idx := make([]int, len(columns))
	for k, c := range columns {
		if idx[k] = colIndex(t, c); idx[k] < 0 {
			return nil, fmt.Errorf("columns: no column %q in the result (columns: %s)", c, strings.Join(t.Columns, ", "))
		}
	}
	out := &output.Table{Columns: columns}
	for _, r := range t.Rows {
		row := make([]any, len(idx))
		for k, i := range idx {
			row[k] = r[i]
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

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
