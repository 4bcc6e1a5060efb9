package reports

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/output"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.html")

// writeFixture renders every report and the "teams" dashboard of the
// fixture into a temporary folder.
func writeFixture(t testing.TB) (string, *Result) {
	t.Helper()
	out := t.TempDir()
	fx := newFixture(t)
	// Data from 1 August to 31 October, ingested the day before the clock:
	// October is the last complete month, nothing is stale.
	fx.cov = fixtureCoverage(fixedNow, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), ts("2026-11-14T10:00:00Z"))
	data := covData{fx}
	opts := Options{Out: out, Now: fixedNow, Freezes: []Freeze{{Name: "quarter close", Start: ts("2026-10-24T00:00:00Z"), End: ts("2026-10-29T00:00:00Z")}}, Leadership: LeadershipOptions{
		QuickCheck: true,
		Targets:    Targets{Org: map[string]float64{LeadTime: 24, ChangeFailureRate: 0.10}, Teams: map[string]map[string]float64{"payments": {LeadTime: 48}}},
		Commentary: "## October\n\nA **good** month; see [the plan](plan.html) and ![chart](https://cdn.example/x.png).\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n",
	}}
	res, err := Write(context.Background(), data, opts, Kinds...)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := dashboards.Find("teams")
	if err != nil {
		t.Fatal(err)
	}
	res2, err := WriteDashboard(context.Background(), data, opts, spec)
	if err != nil {
		t.Fatal(err)
	}
	res.Files = append(res.Files, res2.Files...)
	return out, res
}

func TestGolden(t *testing.T) {
	out, _ := writeFixture(t)
	pages, _ := filepath.Glob(filepath.Join(out, "*.html"))
	want := []string{"audit.html", "dashboard-teams.html", "index.html", "leadership-core--platform-d6b7b5.html", "leadership-payments.html", "leadership.html", "retro.html"}
	var got []string
	for _, p := range pages {
		got = append(got, filepath.Base(p))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pages written:\n got %v\nwant %v", got, want)
	}
	for _, name := range got {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", strings.TrimSuffix(name, ".html")+".golden.html")
		if *update {
			if err := os.WriteFile(golden, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(b, w) {
			t.Errorf("%s differs from %s (run go test -update and review the diff)", name, golden)
		}
	}
}

// TestLeadershipWording checks the sentences worked out by hand in
// testdata/README.md.
func TestLeadershipWording(t *testing.T) {
	out, _ := writeFixture(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	org := read("leadership.html")
	for _, want := range []string{
		"The organisation shipped 24 deployments to production, on a median of 4 days a week.",
		"A typical change reached production 30 hours after its first commit; 1 in 10 took longer than 3.0 days.",
		"1 in 8 production deployments needed immediate intervention; recovery took a median of 3.0 hours.",
		"8.3 % of deployments (2) were unplanned rollbacks or hotfixes.",
		"There were 5 incidents; resolving one took a median of 4.5 hours.",
		// Risks: unrecovered first, then the failure rate rise, then recovery.
		"billing: 1 failed deployment is not recovered.",
		"checkout: change failure rate rose from 0 % to 25.0 % (2 of 8 deployments failed).",
		"search: recovery took a median of 9.0 hours, up from 2.0 hours.",
		// Tiles against September, each beyond its band (10 % of the
		// previous value; 1 point for rates).
		"<strong>better</strong>: up 4 from 20 in the previous period",
		"<strong>better</strong>: from 36 h in the previous period",
		"<strong>worse</strong>: up 7.5 points from 5.0 % in the previous period",
		"<strong>worse</strong>: from 2.0 h in the previous period",
		"<strong>worse</strong>: up 3.33 points from 5.0 % in the previous period",
		"3 of 24 deployments failed",
		`<span class="badge medium">medium</span>`,
		`<a href="` + teamFile(coreTeam) + `">core &lt;platform&gt;</a>`,
		// Targets: lead time 30 h over 24 h, failure rate 12.5 % over 10 %.
		"Target at most 24 h: not met",
		"Target at most 10.0 %: not met",
		// Quick check: 6 (0.77 a day), 6 (30 h), 8 (3 h), 10 (12.5 %), 10
		// (8.3 %): throughput 20 / 3 = 6.7, instability 10, all 40 / 5 = 8.
		"8.0 of 10</strong> · throughput 6.7 · instability 10.0",
		// Major incidents: 1 sev1 and 1 sev2; the longest resolved took 6.5 h.
		"Opened in the period: 1 sev1, 1 sev2. The longest, inc-3, took 6.5 hours to resolve. 1 is not resolved yet.",
		// Commentary: Markdown, with raw HTML, images and javascript: left out.
		"<h2>October</h2>\n<p>A <strong>good</strong> month; see <a href=\"plan.html\">the plan</a> and chart.</p>",
		// The groups of DORA's current model.
		"<h2>Throughput</h2>", "<h2>Instability</h2>",
		// Coverage.
		"Period: October 2026 (the last complete month with deployment data; --from and --to choose another)",
		"Data: deployments 2026-08-01 to 2026-10-31; incidents 2026-08-01 to 2026-10-31. Last successful ingest 2026-11-14 10:00 UTC.",
	} {
		if !strings.Contains(org, want) {
			t.Errorf("leadership.html lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "javascript:", "cdn.example"} {
		if strings.Contains(org, bad) {
			t.Errorf("leadership.html contains %q from the commentary", bad)
		}
	}
	if i, j := strings.Index(org, "billing:"), strings.Index(org, "checkout: change"); i < 0 || j < 0 || i > j {
		t.Errorf("risks out of order")
	}
	pay := read("leadership-payments.html")
	for _, want := range []string{
		"Team payments made no production deployments in this period, so there is no change failure rate, recovery time or rework rate to report.",
		"no production deployments",
		"no figure for the previous period",
		"No service has figures for this period, so there is nothing to compare.",
		"Nothing to draw: every value is empty for this period.",
	} {
		if !strings.Contains(pay, want) {
			t.Errorf("leadership-payments.html lacks %q", want)
		}
	}
	for _, bad := range []string{"1 in 0", "NaN", "Inf", "of 0 deployments"} {
		if strings.Contains(pay, bad) || strings.Contains(org, bad) {
			t.Errorf("leadership pages contain %q", bad)
		}
	}
}

func TestInjectionEscaped(t *testing.T) {
	out, _ := writeFixture(t)
	for _, name := range []string{"retro.html", "audit.html"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, "<img") {
			t.Errorf("%s: an <img> element came through from the data", name)
		}
		if !strings.Contains(s, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("%s: the injected title is not shown as escaped text", name)
		}
		// Only the two script elements of the page close with </script>,
		// plus one JSON element per chart.
		closes := strings.Count(s, "</script>")
		opens := strings.Count(s, "<script")
		if closes != opens {
			t.Errorf("%s: %d <script openings but %d </script> closings", name, opens, closes)
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, "retro.html"))
	if !strings.Contains(string(b), `\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e`) {
		t.Errorf("retro.html: chart JSON does not carry the escaped title")
	}
}

// networkRef finds a script, style, font or image reference to another
// host: src/href attributes, CSS url() and @import.
var networkRef = regexp.MustCompile(`(?i)(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)`)

func TestNoNetworkReferences(t *testing.T) {
	for _, bad := range []string{`<script src="https://cdn.example/echarts.js">`, `<link href='http://x/y.css'>`, `src=//cdn/x.js`, `url( "https://f/font.woff2")`, `@import "http://x.css"`} {
		if !networkRef.MatchString(bad) {
			t.Fatalf("the check misses %s", bad)
		}
	}
	out, res := writeFixture(t)
	for _, f := range res.Files {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".js") {
			continue // the ECharts library itself: checked by TestEChartsAsset
		}
		if m := networkRef.Find(b); m != nil {
			t.Errorf("%s references the network: %s", f, m)
		}
		if bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) {
			t.Errorf("%s contains an http(s) address", f)
		}
	}
}

func TestEChartsAsset(t *testing.T) {
	want := strings.Fields(echartsSHA256)[0]
	if got := sha256hex(echartsJS); got != want {
		t.Fatalf("embedded echarts.min.js has sha256 %s, recorded %s", got, want)
	}
	// The library loads no script, style or font of its own from a host.
	if m := networkRef.Find(echartsJS); m != nil {
		t.Errorf("echarts.min.js references the network: %s", m)
	}
}

func TestNothingWrittenOnError(t *testing.T) {
	for _, fail := range []string{"retro-adoption", "audit", "metrics"} {
		out := filepath.Join(t.TempDir(), "out")
		data := newFixture(t)
		data.failOn = fail
		_, err := Write(context.Background(), data, Options{Out: out, Now: fixedNow}, Kinds...)
		if err == nil {
			t.Fatalf("fail on %s: no error", fail)
		}
		if _, serr := os.Stat(out); !os.IsNotExist(serr) {
			t.Errorf("fail on %s: %s was created", fail, out)
		}
	}
}

func TestQueryCalls(t *testing.T) {
	data := newFixture(t)
	if _, err := Write(context.Background(), data, Options{Out: t.TempDir(), Team: "payments", Now: fixedNow}, Retro); err != nil {
		t.Fatal(err)
	}
	want := "query retro-slowest-changes from=2026-10-01T00:00:00Z limit=20 team=payments to=2026-11-01T00:00:00Z"
	found := false
	for _, c := range data.calls {
		found = found || c == want
	}
	if !found {
		t.Errorf("no call %q in %q", want, data.calls)
	}
}

func TestKPIPanel(t *testing.T) {
	pg := newPage("t", "", oct, nov, fixedNow)
	tbl := &output.Table{Columns: []string{"deployments", "change_failure_rate", "lead_time_median_hours"}, Rows: [][]any{{int64(24), 0.125, nil}}}
	b, err := pg.renderPanel(dashboards.Panel{Title: "Now", Chart: dashboards.KPI, Query: "q", Y: []string{"deployments", "change_failure_rate", "lead_time_median_hours"}}, tbl)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tl := range b.Tiles {
		got = append(got, tl.Label+"="+tl.Value)
	}
	// 0.125 is 12.5%; NULL is a dash, never 0.
	if want := "Deployments=24 Change failure rate=12.5 % Lead time median hours=–"; strings.Join(got, " ") != want {
		t.Errorf("tiles %q, want %q", strings.Join(got, " "), want)
	}
	if _, err := pg.renderPanel(dashboards.Panel{Title: "Bad", Chart: dashboards.Line, Query: "q", X: "day", Y: []string{"deployments"}}, tbl); err == nil || !strings.Contains(err.Error(), `x: no column "day"`) {
		t.Errorf("missing x column: %v", err)
	}
}

func TestRenderDashboard(t *testing.T) {
	spec, err := dashboards.Find("retro")
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t)
	fx.cov = fixtureCoverage(fixedNow, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), ts("2026-11-14T10:00:00Z"))
	b, err := RenderDashboard(context.Background(), covData{fx}, Options{Now: fixedNow, Freezes: []Freeze{{Name: "quarter close", Start: ts("2026-10-24T00:00:00Z"), End: ts("2026-10-29T00:00:00Z")}}}, spec)
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "retro.golden.html"))
	if err != nil {
		t.Fatal(err)
	}
	// The same page as the file report writes, without the links to CSV
	// files (a served page has none beside it).
	golden = regexp.MustCompile(`<p class="csv">.*?</p>`).ReplaceAll(golden, nil)
	if !bytes.Equal(b, golden) {
		t.Errorf("RenderDashboard(retro) differs from retro.golden.html")
	}
	if !bytes.Equal(EChartsJS(), echartsJS) {
		t.Errorf("EChartsJS differs from the embedded file")
	}
}

// A control failing more often than the page shows: the page lists the
// first findingsShown rows and names the CSV beside it, which holds every
// finding (a header line plus one line each) and is among the files written.
func TestAuditFindingsBeyondThePageGoToCSV(t *testing.T) {
	data := newFixture(t)
	n := findingsShown + 7
	f := &output.Table{Columns: []string{"deployment_id", "reason"}}
	for i := 0; i < n; i++ {
		f.Rows = append(f.Rows, []any{fmt.Sprintf("d-%05d", i), "no change request"})
	}
	data.audit = append(data.audit, ControlResult{Control: "unapproved-production-change", Description: "checks", Checked: int64(n), Failed: int64(n), Findings: f})
	out := t.TempDir()
	res, err := Write(context.Background(), data, Options{Out: out, Now: fixedNow}, Audit)
	if err != nil {
		t.Fatal(err)
	}
	const file = "audit-findings-unapproved-production-change.csv"
	if !slices.Contains(res.Files, file) {
		t.Errorf("files written %v lack %s", res.Files, file)
	}
	csv, err := os.ReadFile(filepath.Join(out, file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(csv), "\n"), "\n")
	if len(lines) != n+1 || lines[0] != "deployment_id,reason" || lines[n] != fmt.Sprintf("d-%05d,no change request", n-1) {
		t.Errorf("CSV has %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	page, err := os.ReadFile(filepath.Join(out, "audit.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if !strings.Contains(html, fmt.Sprintf("d-%05d", findingsShown-1)) || strings.Contains(html, fmt.Sprintf("d-%05d", findingsShown)) {
		t.Errorf("the page does not show exactly the first %d findings", findingsShown)
	}
	if !strings.Contains(html, fmt.Sprintf("The first %d of %d findings are shown; all are in %s", findingsShown, n, file)) {
		t.Errorf("the page does not name the CSV")
	}
}
