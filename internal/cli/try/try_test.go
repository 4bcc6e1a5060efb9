package try

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cli/explain"
	metricscmd "github.com/shiplog/shiplog/internal/cli/metrics"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/gitfixture"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
)

var fixedNow = time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(*Options) bool
	}{
		{[]string{}, "--repo is required", nil},
		{[]string{"--repo", ".", "--by", "year"}, `--by must be week, month or quarter, not "year"`, nil},
		{[]string{"--repo", ".", "--tag-pattern", "("}, "--tag-pattern", nil},
		{[]string{"--repo", "."}, "", func(o *Options) bool { return o.Dir == DefaultDir && o.By == "quarter" && o.TagPattern == "" }},
		{[]string{"--repo", "r", "--dir", "d", "--by", "week", "--tag-pattern", "^x$"}, "",
			func(o *Options) bool { return o.Repo == "r" && o.Dir == "d" && o.By == "week" && o.TagPattern == "^x$" }},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmdTry(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || cmdutil.ExitCode(err) != 2 {
				t.Errorf("%v: error %v, want %q (exit 2)", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got == nil || !tt.check(got) {
			t.Errorf("%v: %v %+v", tt.args, err, got)
		}
	}
}

// TestTryEndToEnd runs try on gitfixture.Release (hand-worked figures in
// its doc comment) and reads the warehouse it wrote with the metrics and
// explain commands and the leadership page in Chromium: lead time per
// commit as worked out by hand, and, with no incident source, a change
// failure rate that is unknown with its reason in every output.
func TestTryEndToEnd(t *testing.T) {
	r, sha := gitfixture.Release(t)
	dir := filepath.Join(t.TempDir(), "try")
	ios, _, stdout, stderr := iostreams.Test()
	res, err := Run(context.Background(), &Options{IO: ios, Now: func() time.Time { return fixedNow },
		Repo: r.Dir, Dir: dir, Name: "acme/app", By: "week"})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}

	// The guessed pattern and what it matched: v1.0.0, v1.1.0, v1.2.0,
	// v1.1.1 and v1.3.0 of seven tags (not docs-snapshot, not v1.3.0-rc1).
	for _, want := range []string{
		"try: tag pattern ^v\\d+\\.\\d+\\.\\d+$ (like v1.2.3), guessed from the tags:\n     5 of 7 tags match",
		"try: each of the 5 releases is taken as a production deployment of\n     service app",
		"Done. Everything is in " + dir,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if res.Commits != 10 || res.Releases != 5 || res.Service != "app" || res.Index == "" {
		t.Errorf("result: %d commits, %d releases, service %s, index %q; want 10, 5, app", res.Commits, res.Releases, res.Service, res.Index)
	}

	// The whole history: seven tracked commits 0.5, 22, 30, 43, 48, 49,
	// 56 h → median 43 h; c1 and c2 pre-tracking; five releases.
	whole := rowOf(t, res.Metrics, 0)
	wantWhole := map[string]any{
		"deployments": int64(5), "lead_time_median_hours": 43.0, "lead_time_changes": int64(7),
		"lead_time_excluded": int64(2), "change_failure_rate": nil, "change_failure_rate_tier": nil,
		"failure_unknown_reason": "no incident source", "lead_time_unknown_reason": nil,
		"recovery_median_hours": nil, "mttr_median_hours": nil, "lead_time_tier": "high",
	}
	for k, v := range wantWhole {
		if whole[k] != v {
			t.Errorf("whole history %s = %v, want %v", k, whole[k], v)
		}
	}
	// Per week (Monday, UTC; the first clipped to the first release's
	// day): 01-03 v1.0.0 only (pre-tracking), 01-05 v1.1.0, v1.2.0 and
	// v1.1.1 (0.5, 22, 43, 48, 49 → 43 h), 01-12 v1.3.0 (30, 56 → 43 h).
	var weeks []string
	for i := range res.ByPeriod.Rows {
		w := rowOf(t, res.ByPeriod, i)
		weeks = append(weeks, output.Text(w["period_start"])[:10]+" "+output.Text(w["deployments"])+" "+
			output.Text(w["lead_time_changes"])+" "+output.Text(w["lead_time_median_hours"]))
	}
	if got := strings.Join(weeks, "; "); got != "2026-01-03 1 0 ; 2026-01-05 3 5 43; 2026-01-12 1 2 43" {
		t.Errorf("weeks: %s", got)
	}
	for _, want := range []string{"What git cannot give:", "change failure rate   unknown: no incident source", "sources:\n  # pull requests"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	// The lines to add to shiplog.yaml are a valid configuration, and the
	// one written in the folder reads the same repository.
	next := stdout.String()[strings.Index(stdout.String(), "sources:\n"):]
	cfg := config.Default()
	if err := config.Parse([]byte(next), cfg); err != nil || cfg.Validate() != nil || cfg.Sources.PagerDuty == nil || cfg.Sources.Jira == nil {
		t.Errorf("suggested lines do not parse: %v %v\n%s", err, cfg.Validate(), next)
	}
	written, err := config.Load(res.Config)
	if err != nil || len(written.Sources.Git) != 1 || written.Sources.Git[0].TagPattern != `^v\d+\.\d+\.\d+$` || written.Sources.Git[0].Service != "app" {
		t.Errorf("written configuration: %v %+v", err, written)
	}

	// Every output format of `shiplog metrics` says the failure rate is
	// unknown and why.
	js := runCmd(t, res.Warehouse, 0, metricscmd.NewCmdMetrics, "--format", "json")
	var doc struct{ Rows []map[string]any }
	if err := json.Unmarshal([]byte(js.out), &doc); err != nil || len(doc.Rows) != 1 {
		t.Fatalf("json: %v\n%s", err, js.out)
	}
	if v, ok := doc.Rows[0]["change_failure_rate"]; !ok || v != nil || doc.Rows[0]["failure_unknown_reason"] != "no incident source" ||
		doc.Rows[0]["change_failure_rate_tier"] != nil || doc.Rows[0]["lead_time_median_hours"] != 43.0 {
		t.Errorf("json row: %v", doc.Rows[0])
	}
	cs := runCmd(t, res.Warehouse, 0, metricscmd.NewCmdMetrics, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(cs.out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v\n%s", err, cs.out)
	}
	csvRow := map[string]string{}
	for i, c := range recs[0] {
		csvRow[c] = recs[1][i]
	}
	if csvRow["change_failure_rate"] != "" || csvRow["failure_unknown_reason"] != "no incident source" || csvRow["change_failure_rate_tier"] != "" {
		t.Errorf("csv row: %v", csvRow)
	}
	tb := runCmd(t, res.Warehouse, 100, metricscmd.NewCmdMetrics)
	if line := strings.Join(strings.Fields(strings.Split(tb.out, "\n")[1]), " "); !strings.HasPrefix(line, "app 5 ") ||
		!strings.Contains(line, " unknown unknown ") || !strings.Contains(tb.err, "unknown (no incident source): app\n") {
		t.Errorf("table:\n%s\n%s", tb.out, tb.err)
	}

	// explain: the totals say why; lead time lists the commits, by sha.
	ex := runCmd(t, res.Warehouse, 100, explain.NewCmdExplain, "change-failure-rate")
	if !strings.HasSuffix(ex.out, "total: deployments 5 · failed 0 · rate unknown · unknown: no incident source\n") {
		t.Errorf("explain change-failure-rate:\n%s", ex.out)
	}
	lt := runCmd(t, res.Warehouse, 0, explain.NewCmdExplain, "lead-time", "--format", "json")
	var ltDoc struct{ Rows []map[string]any }
	if err := json.Unmarshal([]byte(lt.out), &ltDoc); err != nil {
		t.Fatal(err)
	}
	listed := map[any]bool{}
	for _, row := range ltDoc.Rows {
		if row["granularity"] != "commit" || row["pickup_hours"] != nil || row["review_hours"] != nil {
			t.Errorf("explain lead-time row: %v", row)
		}
		listed[row["change_id"]] = true
	}
	for _, c := range []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "p1"} {
		if !listed[sha[c]] {
			t.Errorf("explain lead-time does not list %s (%s)", c, sha[c])
		}
	}
	if listed[sha["m1"]] || len(ltDoc.Rows) != 9 {
		t.Errorf("explain lead-time: %d rows, merge listed %v; want the 9 commits, no merge", len(ltDoc.Rows), listed[sha["m1"]])
	}

	// The leadership page, as a browser shows it.
	text := pageText(t, filepath.Join(dir, "reports", "leadership.html"))
	for _, want := range []string{"Change fail rate", "no incident source: no incident of these services was ever ingested", "unknown (no incident source)"} {
		if !strings.Contains(text, want) {
			t.Errorf("leadership page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "0 %\nelite") || strings.Contains(text, "0.0 %") {
		t.Errorf("leadership page shows a failure rate:\n%s", text)
	}
}

// TestTryRevertFloor: a release that a later one reverts is a failure git
// alone can show (gitfixture.Revert: v1.1.0 reverted by v1.2.0, three
// releases). With no incident source the failure rate stays unknown, and
// the summary says how many releases are known to have failed, as a
// floor, in lines that fit an 80-column terminal.
func TestTryRevertFloor(t *testing.T) {
	r, _ := gitfixture.Revert(t)
	ios, _, stdout, stderr := iostreams.Test()
	res, err := Run(context.Background(), &Options{IO: ios, Now: func() time.Time { return fixedNow },
		Repo: r.Dir, Dir: filepath.Join(t.TempDir(), "try"), Name: "acme/app"})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	whole := rowOf(t, res.Metrics, 0)
	if whole["failed_deployments"] != int64(1) || whole["change_failure_rate"] != nil || whole["failure_unknown_reason"] != "no incident source" {
		t.Errorf("whole history: failed %v, rate %v, reason %v; want 1, unknown, no incident source",
			whole["failed_deployments"], whole["change_failure_rate"], whole["failure_unknown_reason"])
	}
	out := stdout.String()
	summary := out[strings.Index(out, "What git gives"):strings.Index(out, "sources:")]
	for _, want := range []string{
		"  failed releases       at least 1 of 3, found from git alone",
		"  change failure rate   unknown: no incident source",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	for _, line := range strings.Split(summary, "\n") {
		if n := len([]rune(line)); n > 80 && !strings.Contains(line, res.Config) {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
}

func rowOf(t *testing.T, tb *output.Table, i int) map[string]any {
	t.Helper()
	if i >= len(tb.Rows) {
		t.Fatalf("no row %d in %v", i, tb.Rows)
	}
	m := map[string]any{}
	for j, c := range tb.Columns {
		m[c] = tb.Rows[i][j]
	}
	return m
}

type ran struct{ out, err string }

func runCmd[O any](t *testing.T, db string, width int, newCmd func(*cmdutil.Factory, func(context.Context, *O) error) *cobra.Command, args ...string) ran {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	if width > 0 {
		ios.SetStdoutTTY(true)
		ios.SetStderrTTY(true)
		ios.SetTerminalWidth(width)
	}
	f := &cmdutil.Factory{IOStreams: ios, DBPath: db, Now: func() time.Time { return fixedNow }}
	f.SetConfig(config.Default())
	cmd := newCmd(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut)
	}
	return ran{out.String(), errOut.String()}
}

// pageText loads a page in headless Chromium and returns its text as
// shown. Without a browser the test skips, unless CI is set.
func pageText(t *testing.T, path string) string {
	t.Helper()
	var exe string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found and CI is set")
		}
		t.Skip("chromium not found")
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.ToSlash(path)), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return text
}

// TestTryWithoutReleaseTags: a clone whose tags (none, or none of a
// release's shape) give try nothing to count stops before writing
// anything, and says what to do: fetch the tags, or write the pattern
// from the tags it shows.
func TestTryWithoutReleaseTags(t *testing.T) {
	tests := []struct {
		name string
		tags []string
		want []string
	}{
		{"no tags", nil, []string{
			"has no tags.\ntry takes each release tag as a production deployment: fetch the tags\nif this clone lacks them (git fetch --tags), or tag your releases"}},
		{"two of another shape", []string{"deploy_7", "nightly"}, []string{
			"none of its 2 tag(s) looks like a release.\nIts tags: deploy_7, nightly.\nShapes tried: v1.2.3, 1.2.3,",
			"name/v1.2.3.\nGive the pattern of your release tags with --tag-pattern"}},
		{"seven of another shape", []string{"b1", "b2", "b3", "b4", "b5", "b6", "b7"}, []string{
			"none of its 7 tag(s)", "Its tags: b1, b2, b3, b4, b5 and 2 more.\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gitfixture.New(t)
			r.Commit("a.txt", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z")
			for _, tag := range tt.tags {
				r.Tag(tag, "2026-01-02T10:00:00Z")
			}
			dir := filepath.Join(t.TempDir(), "try")
			ios, _, _, _ := iostreams.Test()
			_, err := Run(context.Background(), &Options{IO: ios, Now: func() time.Time { return fixedNow }, Repo: r.Dir, Dir: dir})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
				t.Errorf("%s was written (%v)", dir, serr)
			}
		})
	}
}
