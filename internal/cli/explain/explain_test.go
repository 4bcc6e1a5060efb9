package explain

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	for _, tt := range []struct{ args, wantErr, metric string }{
		{args: "lead-time --team pay --from 2026-01-01", metric: "lead-time"},
		{args: "rework-rate --service api --format json", metric: "rework-rate"},
		{args: "happiness", wantErr: "unknown metric \"happiness\"; known: change-failure-rate, deployment-frequency, lead-time, recovery-time, rework-rate"},
		{args: "lead-tme", wantErr: "unknown metric \"lead-tme\"; did you mean \"lead-time\"?"},
		{args: "lead-time --to soon", wantErr: "--to:"},
		{args: "", wantErr: "accepts 1 arg"},
	} {
		t.Run(tt.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdExplain(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Metric != tt.metric {
				t.Fatalf("err = %v, metric = %v", err, got)
			}
		})
	}
}

// warehouse loads ../metrics/testdata/two-teams.jsonl (see TwoTeams in
// package metrics for the hand-worked figures) and transforms it.
func twoTeams(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loaded := func() time.Time { return time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC) }
	if _, err := file.Load(ctx, db, []string{"../metrics/testdata/two-teams.jsonl"}, file.Options{Source: "fixture", Now: loaded}); err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, path string, width int, args ...string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	if width > 0 {
		ios.SetStdoutTTY(true)
		ios.SetStderrTTY(true)
		ios.SetTerminalWidth(width)
	}
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path, Now: func() time.Time { return time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC) }}
	f.SetConfig(config.Default())
	cmd := NewCmdExplain(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

// The totals under the rows are the numbers `shiplog metrics` shows for
// the same services, worked out by hand for TwoTeams' team pay.
func TestTotals(t *testing.T) {
	path := twoTeams(t)
	tests := []struct {
		metric, rows, total string
	}{
		{"lead-time", "c1", "total: changes 1 · left out 0 · median 24 h · p75 24 h · p90 24 h · tier elite"},
		// failed first: a2 (incident i1), g1 (fixed by the hotfix g2)
		{"change-failure-rate", "a2 g1 a0 g0 a1 g2", "total: deployments 6 · failed 2 · rate 33.3 % · tier low"},
		// recovery 2 h and 48 h: median 25 h, p75 2+0.75×46 = 36.5 h,
		// p90 2+0.9×46 = 43.4 h
		{"recovery-time", "a2 g1", "total: failed 2 · unrecovered 0 · median 25 h · p75 37 h · p90 43 h · tier medium"},
		{"rework-rate", "g2 a0 g0 a1 a2 g1", "total: deployments 6 · unplanned 1 · rate 16.7 %"},
	}
	for _, tt := range tests {
		out, errOut, err := run(t, path, 80, tt.metric, "--team", "pay")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		var ids []string
		for _, l := range lines[1 : len(lines)-2] {
			ids = append(ids, strings.Fields(l)[0])
		}
		if strings.Join(ids, " ") != tt.rows || lines[len(lines)-2] != "" || lines[len(lines)-1] != tt.total {
			t.Errorf("%s:\n%s\nwant rows %s and %q", tt.metric, out, tt.rows, tt.total)
		}
		if !strings.HasPrefix(errOut, "period: 2026-01-02 to 2026-01-14 (all data; --from and --to choose)\ndata: deployments ") {
			t.Errorf("%s stderr: %q", tt.metric, errOut)
		}
	}

	// JSON carries the totals with the metrics' names; piped output has
	// no totals line (it would not be a row).
	out, _, err := run(t, path, 0, "recovery-time", "--team", "pay", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metric string
		Totals map[string]any
		Period map[string]any
		Rows   []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Metric != "recovery-time" || doc.Totals["recovery_median_hours"] != float64(25) || doc.Totals["recovery_p75_hours"] != 36.5 ||
		doc.Totals["failed_deployments"] != float64(2) || len(doc.Rows) != 2 || doc.Period["from"] != "2026-01-02T00:00:00Z" {
		t.Errorf("json: %s", out)
	}
	piped, _, _ := run(t, path, 0, "lead-time", "--team", "pay")
	if strings.Contains(piped, "total") || len(strings.Split(strings.TrimSpace(piped), "\n")) != 2 {
		t.Errorf("piped:\n%s", piped)
	}

	// A window with no deployment: no rows, counts 0, the rest unknown.
	out, _, err = run(t, path, 80, "change-failure-rate", "--from", "2026-03-01", "--to", "2026-04-01")
	if err != nil || !strings.HasSuffix(out, "\ntotal: deployments 0 · failed 0 · rate –\n") {
		t.Errorf("empty window: %v\n%s", err, out)
	}
	// Team web has no incident ever ingested: its failure rate is unknown
	// with the reason, in the totals line and in JSON, not 0 % (elite).
	out, _, err = run(t, path, 80, "change-failure-rate", "--team", "web")
	if err != nil || !strings.HasSuffix(out, "\ntotal: deployments 2 · failed 0 · rate unknown · unknown: no incident source\n") {
		t.Errorf("no incident source: %v\n%s", err, out)
	}
	out, _, err = run(t, path, 0, "change-failure-rate", "--team", "web", "--format", "json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if v, ok := doc.Totals["change_failure_rate"]; !ok || v != nil || doc.Totals["failure_unknown_reason"] != "no incident source" {
		t.Errorf("json, no incident source: %s", out)
	}
	// A typo'd service is an error with the closest names, exit 2.
	_, _, err = run(t, path, 0, "lead-time", "--service", "nope")
	if err == nil || err.Error() != `unknown service "nope"; known: api, payment-gateway, site` || cmdutil.ExitCode(err) != 2 {
		t.Errorf("unknown service: %v", err)
	}
}

// Every total is a column of the metrics, and every metric has totals.
func TestTotalsAreMetricsColumns(t *testing.T) {
	cols := map[string]bool{}
	for _, c := range metrics.Columns {
		cols[c] = true
	}
	for _, m := range metrics.ExplainMetrics {
		if len(Totals[m]) == 0 {
			t.Errorf("%s has no totals", m)
		}
		for _, tot := range Totals[m] {
			if !cols[tot.Column] {
				t.Errorf("%s: total %s is not a metrics column", m, tot.Column)
			}
		}
	}
}
