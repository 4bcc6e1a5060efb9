package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"

	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/suggest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// teams is a metrics-like table with hand-chosen values: payments made 255
// deployments, 3 failed (3/255 = 1.18 %), 1 unplanned (1/255 = 0.39 %);
// identity has no lead time and no failures to time (unknown, not 0).
func teams() *Table {
	return &Table{
		Columns: []string{"team", "period_start", "period_end", "deployments", "lead_time_median_hours", "lead_time_tier",
			"change_failure_rate", "change_failure_rate_tier", "recovery_median_hours", "rework_rate", "incidents", "note"},
		Rows: [][]any{
			{"payments", day("2026-08-01"), day("2026-11-01"), int64(1255), 26.732000000000003, "high", 3.0 / 255, "elite", 5.53, 1.0 / 255, int64(32), "steady"},
			{"data", day("2026-08-01"), day("2026-11-01"), int64(8), 508.81, "medium", 0.375, "low", 2.81, 0.25, int64(17), "a long free-text note that a narrow terminal must cut short"},
			{"identity", day("2026-08-01"), day("2026-11-01"), int64(21), nil, nil, math.NaN(), nil, nil, 0.0, int64(0), nil},
		},
		Kinds: map[string]format.Kind{
			"team": format.Text, "period_start": format.Date, "period_end": format.Date, "deployments": format.Count,
			"lead_time_median_hours": format.Hours, "lead_time_tier": format.Text, "change_failure_rate": format.Rate,
			"change_failure_rate_tier": format.Text, "recovery_median_hours": format.Hours, "rework_rate": format.Rate,
			"incidents": format.Count, "note": format.Text,
		},
		Labels: map[string]string{"deployments": "DEPLOYS", "lead_time_median_hours": "LEAD TIME",
			"change_failure_rate": "FAILURE RATE", "recovery_median_hours": "RECOVERY", "rework_rate": "REWORK"},
		Primary: []string{"team", "deployments", "lead_time_median_hours", "change_failure_rate",
			"recovery_median_hours", "rework_rate", "note", "incidents"},
		Beside: map[string]string{"lead_time_median_hours": "lead_time_tier", "change_failure_rate": "change_failure_rate_tier"},
	}
}

func print(t *testing.T, tbl *Table, o Options) (string, string) {
	t.Helper()
	var out, hints bytes.Buffer
	o.Hints = &hints
	if err := Print(&out, tbl, o); err != nil {
		t.Fatal(err)
	}
	return out.String(), hints.String()
}

func TestTerminal80(t *testing.T) {
	out, hints := print(t, teams(), Options{TTY: true, Width: 80})
	golden(t, "teams-80.golden", out)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if w := uniseg.StringWidth(l); w > 80 {
			t.Errorf("line of %d cells: %q", w, l)
		}
	}
	// Hand-worked cells: 3/255 = 1.18 % with its tier beside it, 26.7 h
	// rounds to 27 h, 508.8 h is 21.2 days, unknown is a dash.
	for _, want := range []string{"1,255", "27 h high", "1.2 % elite", "21 d medium", "37.5 % low", "5.5 h", "0.4 %"} {
		if !strings.Contains(out, want) {
			t.Errorf("80 columns lack %q:\n%s", want, out)
		}
	}
	identity := strings.Fields(strings.Split(out, "\n")[3])
	if strings.Join(identity[:6], " ") != "identity 21 – – – 0" {
		t.Errorf("identity row %q: unknown must read –, a real 0 as 0", identity)
	}
	// The note is cut to a comfortable width first; still too wide, the
	// last columns of the primary list go.
	if hints != "2 more columns to fit 80 characters: note, incidents (--wide shows them,\n--columns picks)\n" {
		t.Errorf("hints = %q", hints)
	}
}

func TestTerminal200(t *testing.T) {
	out, hints := print(t, teams(), Options{TTY: true, Width: 200})
	golden(t, "teams-200.golden", out)
	if hints != "" || !strings.Contains(out, "a long free-text note that a narrow terminal must cut short") {
		t.Errorf("200 columns cut something:\n%s%s", out, hints)
	}
}

func TestTerminalWide(t *testing.T) {
	out, _ := print(t, teams(), Options{TTY: true, Width: 80, Wide: true})
	golden(t, "teams-wide.golden", out)
	// every column, the tiers in their own columns, nothing fitted
	if !strings.Contains(strings.Split(out, "\n")[0], "LEAD TIME TIER") || !strings.Contains(out, "2026-11-01") {
		t.Errorf("wide:\n%s", out)
	}
}

func TestColumns(t *testing.T) {
	// by name or by heading, in the order asked, in every format
	out, _ := print(t, teams(), Options{TTY: true, Width: 80, Columns: []string{"failure rate", "team"}})
	want := "FAILURE RATE  TEAM\n" +
		"       1.2 %  payments\n" +
		"      37.5 %  data\n" +
		"           –  identity\n"
	if out != want {
		t.Errorf("--columns:\n%s\nwant\n%s", out, want)
	}
	csvOut, _ := print(t, teams(), Options{Format: "csv", Columns: []string{"team", "rework_rate"}})
	if csvOut != "team,rework_rate\npayments,0.0039\ndata,0.25\nidentity,0\n" {
		t.Errorf("--columns csv:\n%s", csvOut)
	}
	var out2 bytes.Buffer
	err := Print(&out2, teams(), Options{Columns: []string{"team", "rewrok_rate"}})
	var ue *suggest.UnknownError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `unknown column "rewrok_rate"; did you mean "rework_rate"?`) {
		t.Errorf("unknown column: %v", err)
	}
}

func TestPiped(t *testing.T) {
	// "table" piped and "tsv" are the same: every column, raw values
	// rounded to their kind's precision, empty for unknown.
	piped, _ := print(t, teams(), Options{Format: "table"})
	tsv, _ := print(t, teams(), Options{Format: "tsv", TTY: true})
	if piped != tsv {
		t.Errorf("piped table and tsv differ:\n%s\n%s", piped, tsv)
	}
	golden(t, "teams.tsv.golden", tsv)
	lines := strings.Split(tsv, "\n")
	if lines[0] != strings.Join(teams().Columns, "\t") {
		t.Errorf("header %q", lines[0])
	}
	// 26.732000000000003 h → 26.732; 3/255 → 0.0118; NaN → empty
	if !strings.HasPrefix(lines[1], "payments\t2026-08-01T00:00:00Z\t2026-11-01T00:00:00Z\t1255\t26.732\thigh\t0.0118\telite\t5.53\t0.0039\t32\tsteady") ||
		!strings.HasPrefix(lines[3], "identity\t2026-08-01T00:00:00Z\t2026-11-01T00:00:00Z\t21\t\t\t\t\t\t0\t0\t") {
		t.Errorf("tsv rows:\n%s", tsv)
	}
}

func TestCSV(t *testing.T) {
	out, _ := print(t, teams(), Options{Format: "csv", TTY: true})
	golden(t, "teams.csv.golden", out)
}

func TestJSON(t *testing.T) {
	out, _ := print(t, teams(), Options{Format: "json", Extra: map[string]any{"level": "team"}})
	golden(t, "teams.json.golden", out)
	var doc struct {
		Columns []string
		Kinds   map[string]string
		Level   string
		Rows    []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	p, id := doc.Rows[0], doc.Rows[2]
	if doc.Level != "team" || len(doc.Columns) != 12 || doc.Kinds["change_failure_rate"] != "rate" ||
		p["change_failure_rate"] != 0.0118 || p["lead_time_median_hours"] != 26.732 || p["deployments"] != float64(1255) ||
		p["period_start"] != "2026-08-01T00:00:00Z" {
		t.Errorf("json: %s", out)
	}
	if v, ok := id["change_failure_rate"]; !ok || v != nil || id["rework_rate"] != float64(0) {
		t.Errorf("identity: unknown must be null and a real 0 stay 0: %v", id)
	}
}

func TestFitNarrow(t *testing.T) {
	// 30 columns: the first column stays, later ones go.
	out, hints := print(t, teams(), Options{TTY: true, Width: 30})
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if uniseg.StringWidth(l) > 30 {
			t.Errorf("line wider than 30: %q", l)
		}
	}
	// the hint is wrapped at the width too
	if !strings.HasPrefix(out, "TEAM      DEPLOYS  LEAD TIME\n") || !strings.HasPrefix(strings.Join(strings.Fields(hints), " "), "5 more columns to fit 30 characters: change_failure_rate, ") {
		t.Errorf("narrow:\n%s%s", out, hints)
	}
	for _, l := range strings.Split(strings.TrimSuffix(hints, "\n"), "\n") {
		if uniseg.StringWidth(l) > 30 {
			t.Errorf("hint line wider than 30: %q", l)
		}
	}
	// A lone text column wider than the terminal is cut with an ellipsis.
	lone := &Table{Columns: []string{"title"}, Rows: [][]any{{"a very long title indeed"}}}
	out, _ = print(t, lone, Options{TTY: true, Width: 12})
	if out != "TITLE\na very long…\n" {
		t.Errorf("lone column: %q", out)
	}
}

func TestAutoKinds(t *testing.T) {
	// A result nobody described (ad hoc SQL): numbers right-aligned and
	// free of float noise, midnight times as dates, NULL as a dash.
	tbl := &Table{Columns: []string{"service", "n", "avg_hours", "day"}, Rows: [][]any{
		{"api", int64(1200), 76.80000000000003, day("2026-10-01")},
		{"web", int64(7), nil, day("2026-10-02")},
	}}
	out, _ := print(t, tbl, Options{TTY: true, Width: 80})
	want := "SERVICE     N  AVG HOURS  DAY\n" +
		"api      1200       76.8  2026-10-01\n" +
		"web         7          –  2026-10-02\n"
	if out != want {
		t.Errorf("auto:\n%s\nwant\n%s", out, want)
	}
	tsv, _ := print(t, tbl, Options{})
	if !strings.Contains(tsv, "api\t1200\t76.8\t2026-10-01T00:00:00Z\n") {
		t.Errorf("auto tsv:\n%s", tsv)
	}
}

// When a column is left out, the room it frees goes back to a text column
// that was cut for it.
func TestFitRegrows(t *testing.T) {
	tbl := &Table{Columns: []string{"name", "description", "params"}, Rows: [][]any{
		{"slowest-changes", "Changes with the longest lead time and the stage where each waited", "from timestamp '1970-01-01', to timestamp '9999-12-31'"},
	}}
	out, hints := print(t, tbl, Options{TTY: true, Width: 60})
	// name 15 + gap 2: the description gets the remaining 43 cells.
	want := "NAME             DESCRIPTION\n" +
		"slowest-changes  Changes with the longest lead time and the…\n"
	if out != want || !strings.HasPrefix(hints, "1 more column to fit 60 characters: params") {
		t.Errorf("regrow:\n%s%s\nwant\n%s", out, hints, want)
	}
}
