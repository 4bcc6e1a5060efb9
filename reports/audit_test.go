package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/output"
)

// TestEvidenceLayout checks how findings are split over lines, worked out
// from the rule: ceil(n/8) lines of ceil(n/lines) columns, subject and rule
// first, the exemption last.
func TestEvidenceLayout(t *testing.T) {
	cols := func(n int) *output.Table {
		t := &output.Table{}
		row := []any{}
		for i := 0; i < n; i++ {
			t.Columns = append(t.Columns, "c"+string(rune('a'+i)))
			row = append(row, "v")
		}
		t.Rows = [][]any{row}
		return t
	}
	for _, tt := range []struct{ n, lines, per int }{
		{2, 1, 2}, {7, 1, 7}, {8, 1, 8}, {9, 2, 5}, {16, 2, 8}, {17, 3, 6}, {25, 4, 7},
	} {
		et := evidenceOf(cols(tt.n), 0)
		if et.Lines != tt.lines || len(et.Head) != tt.lines || len(et.Head[0]) != tt.per || len(et.Rows[0]) != tt.lines || len(et.Rows[0][tt.lines-1]) != tt.per {
			t.Errorf("%d columns: %d lines of %d, want %d of %d", tt.n, et.Lines, len(et.Head[0]), tt.lines, tt.per)
		}
	}

	et := evidenceOf(&output.Table{Columns: gateOverrideColumns, Rows: [][]any{gateOverrideRow}}, 0)
	head := make([]string, len(et.Head))
	for k, l := range et.Head {
		head[k] = strings.Join(l, " | ")
	}
	// 18 columns: 3 lines of 6, subject and rule first, the exemption last.
	want := []string{
		"Subject | Rule | Deployment id | Service | Version | Commit sha",
		"Triggered by | Started at | Finished at | Decision id | Decision | Failed criteria",
		"Decided by | Decided at | Override reason | Deployment url | Outcome | Exempt",
	}
	if strings.Join(head, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(head, "\n"), strings.Join(want, "\n"))
	}
	// Which cells may break anywhere: only those with a run of more than
	// 12 characters without a space or hyphen.
	row := et.Rows[0]
	for _, c := range []struct {
		line, col int
		text      string
		brk       bool
	}{
		{0, 0, "deploy-checkout-api-0375", false},
		{0, 1, "deployed after a NO-GO gate decision without an override reason", false},
		{0, 5, "a529a4c86b78c901f06577894ad885ed8ac7ad40", true},
		{1, 1, "2026-10-29 11:25:39", false},
		{1, 3, "4", false},
		{2, 2, "–", false},
		{2, 3, gateOverrideRow[14].(string), true},
		{2, 5, "–", false},
	} {
		got := row[c.line][c.col]
		if got.Text != c.text || got.Break != c.brk {
			t.Errorf("line %d column %d = %q break=%v, want %q break=%v", c.line, c.col, got.Text, got.Break, c.text, c.brk)
		}
	}
	if l := evidenceCell("approvers", []any{"ana", "bo"}); l.Text != "ana, bo" {
		t.Errorf("list shown as %q", l.Text)
	}
	if l := evidenceCell("approvers", []any{}); l.Text != "none" {
		t.Errorf("empty list shown as %q", l.Text)
	}
}

// TestAuditCoverAndChart reads the fixture's audit page: the cover with
// the controls, their versions and the sign-off lines, and the controls
// chart's option.
func TestAuditCoverAndChart(t *testing.T) {
	out, _ := writeFixture(t)
	b, err := os.ReadFile(filepath.Join(out, "audit.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`<header class="cover">`,
		`<dt>Period</dt><dd>2026-10-01T00:00:00Z to 2026-11-01T00:00:00Z (end excluded)</dd>`,
		`<tr><td data-label="Control">deployer-not-allowed</td><td data-label="Version" class="version">99aa88bb77cc</td><td data-label="What it checks">Production deployment triggered by someone outside the allowed deployers.</td><td data-label="Result" class="failed">1 of 500 failed</td></tr>`,
		`<td data-label="Result">0 of 12 failed</td>`,
		`<tr><th scope="row">Prepared by</th>`, `<tr><th scope="row">Reviewed by</th>`, `<tr><th scope="row">Approved by</th>`,
		// Per population, never added across: the largest control's count,
		// the findings of its controls (2 + 1 + 1).
		"Change requests (12 checked by 1 control): no findings.",
		"Production deployments (500 checked by 3 controls): 4 findings in unapproved-production-change, deployer-not-allowed, gate-override. Failed attempts are included",
		// The classes of unapproved-production-change: 10 + 12 + 2 = 24;
		// deployer-not-allowed gave none, so 499 passed and 1 failed.
		`<tr><td>unapproved-production-change</td><td>5f4e3d2c1b0a</td><td class="num">24</td><td class="num">10</td><td class="num">12</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">2</td></tr>`,
		`<tr><td>deployer-not-allowed</td><td>99aa88bb77cc</td><td class="num">500</td><td class="num">499</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">1</td></tr>`,
		`<div class="label">Pre-approved (standard)</div>`,
		`<div class="label">Released by override</div>`,
		// 100 px and 34 px for each of the 4 controls.
		"#chart-1{height:236px}",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("audit.html lacks %s", want)
		}
	}
	m := regexp.MustCompile(`<script type="application/json" id="chart-1-option">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no controls chart")
	}
	var opt struct {
		XAxis struct {
			Type string
			Min  float64
			Max  float64
		}
		YAxis struct {
			Data      []string
			AxisLabel struct{ Interval int }
		}
		Series []struct {
			Name string
			Type string
			Data [][2]float64
		}
	}
	if err := json.Unmarshal([]byte(m[1]), &opt); err != nil {
		t.Fatal(err)
	}
	// Counts up to 500: the axis ends at the power of ten above 1.5 × 500.
	if opt.XAxis.Type != "log" || opt.XAxis.Min != 0.5 || opt.XAxis.Max != 1000 {
		t.Errorf("x axis %+v", opt.XAxis)
	}
	if strings.Join(opt.YAxis.Data, ",") != "self-approval,unapproved-production-change,deployer-not-allowed,gate-override" || opt.YAxis.AxisLabel.Interval != 0 {
		t.Errorf("y axis %+v", opt.YAxis)
	}
	if len(opt.Series) != 2 || opt.Series[0].Name != "Checked" || opt.Series[1].Name != "Failed" {
		t.Fatalf("series %+v", opt.Series)
	}
	// [count, row]: self-approval has no findings, so no red mark.
	if got, _ := json.Marshal(opt.Series[0].Data); string(got) != "[[12,0],[24,1],[500,2],[4,3]]" {
		t.Errorf("checked %s", got)
	}
	if got, _ := json.Marshal(opt.Series[1].Data); string(got) != "[[2,1],[1,2],[1,3]]" {
		t.Errorf("failed %s", got)
	}
}
