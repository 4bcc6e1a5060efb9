package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		args    string
		wantErr string
		check   func(*Options) bool
	}{
		{args: "--service api --service web --team pay --from 2026-01-01 --to 2026-02-01T00:00:00+01:00 --by month --level team",
			check: func(o *Options) bool {
				return len(o.Filter.Services) == 2 && o.Filter.Teams[0] == "pay" && o.Filter.By == "month" && o.Filter.Level == "team" &&
					o.Filter.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) &&
					o.Filter.To.Equal(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)) && o.View == "dora"
			}},
		{args: "--view velocity --format csv", check: func(o *Options) bool { return o.View == "velocity" && o.Table.Format == "csv" }},
		{args: "--by day", wantErr: "--by must be week, month or quarter"},
		{args: "--level galaxy", wantErr: "--level must be"},
		{args: "--from yesterday", wantErr: "--from: \"yesterday\" is not a date"},
		{args: "--from 2026-02-01 --to 2026-01-01", wantErr: "must be before"},
		{args: "--format xml", wantErr: "--format must be one of"},
		{args: "--view mood", wantErr: "--view must be dora or one of"},
		{args: "--level environment --environment prod-eu --environment prod-us",
			check: func(o *Options) bool {
				return o.Filter.Level == "environment" && strings.Join(o.Filter.Environments, ",") == "prod-eu,prod-us"
			}},
		{args: "--view velocity --level environment", wantErr: "apply to the DORA metrics, not --view velocity"},
		{args: "--view mttr --environment prod", wantErr: "apply to the DORA metrics, not --view mttr"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios}
			var got *Options
			cmd := NewCmdMetrics(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a flag error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("options not as expected: %+v", got)
			}
		})
	}
}

// A warehouse with one service, two production deployments in January (one
// failed by its incident) and nothing in February.
func smallWarehouse(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`insert into services (id, team, source) values ('api', 'pay', 't')`,
		`insert into deployments (id, service, environment, status, started_at, finished_at, source) values
		 ('d1', 'api', 'production', 'success', '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00', 't'),
		 ('d2', 'api', 'production', 'success', '2026-01-07 10:00:00+00', '2026-01-07 11:00:00+00', 't')`,
		`insert into incidents (id, service, severity, opened_at, resolved_at, caused_by_deployment, source) values
		 ('i1', 'api', 'sev1', '2026-01-07 12:00:00+00', '2026-01-07 13:00:00+00', 'd2', 't')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path
}

func TestRunJSON(t *testing.T) {
	path := smallWarehouse(t)
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path}
	f.SetConfig(config.Default())
	cmd := NewCmdMetrics(f, nil)
	cmd.SetArgs([]string{"--from", "2026-01-01", "--to", "2026-03-01", "--by", "month", "--format", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		From       string           `json:"from"`
		Benchmarks string           `json:"benchmarks"`
		Rows       []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if doc.From != "2026-01-01T00:00:00Z" || doc.Benchmarks != "dora-2023" || len(doc.Rows) != 2 {
		t.Fatalf("document: %s", out.String())
	}
	// January: 2 deployments, d2 failed (incident), recovered 2 h after its
	// finish (incident resolved 13:00).
	jan, feb := doc.Rows[0], doc.Rows[1]
	if jan["service"] != "api" || jan["deployments"] != float64(2) || jan["change_failure_rate"] != 0.5 ||
		jan["recovery_median_hours"] != float64(2) || jan["recovery_time_tier"] != "high" {
		t.Errorf("january row: %v", jan)
	}
	// February: no deployments, so no rate: null, never 0.
	if feb["deployments"] != float64(0) || feb["change_failure_rate"] != nil || feb["rework_rate"] != nil {
		t.Errorf("february row: %v", feb)
	}
	if _, ok := feb["change_failure_rate"]; !ok {
		t.Error("february row lacks change_failure_rate (want null)")
	}
}

func TestRunTableBlankForUndefined(t *testing.T) {
	path := smallWarehouse(t)
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path}
	f.SetConfig(config.Default())
	cmd := NewCmdMetrics(f, nil)
	cmd.SetArgs([]string{"--from", "2026-02-01", "--to", "2026-03-01"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	cols, vals := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	for i, c := range cols {
		if c == "change_failure_rate" && vals[i] != "" {
			t.Errorf("change_failure_rate = %q, want blank", vals[i])
		}
		if c == "deployments" && vals[i] != "0" {
			t.Errorf("deployments = %q, want 0", vals[i])
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// loaded is the time testdata/two-teams.jsonl was ingested, and now the
// clock of the commands: two days later, so the warehouse is fresh.
var (
	loaded = time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
	now    = time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)
)

// TwoTeams returns the warehouse of testdata/two-teams.jsonl, loaded at
// `loaded` and transformed, built once for the package's tests (which only
// read it). In January 2026:
//
//	pay (api, payment-gateway): 6 production deployments; a2 failed (its
//	incident i1, resolved 2 h after a2 finished), g1 failed (fixed by the
//	hotfix g2 48 h later): failure rate 2/6 = 33.3 %, recovery median of
//	2 h and 48 h = 25 h, rework 1/6 = 16.7 % (g2), lead time of c1 =
//	24 h, MTTR of i1 = 1 h.
//	web (site): 2 deployments, none failed (0 %), no recovery (–), lead
//	time of c2 = 72 h = 3.0 d, no incident (MTTR –).
func TwoTeams(t *testing.T) string {
	t.Helper()
	twoTeams.once.Do(func() {
		ctx := context.Background()
		twoTeams.path = filepath.Join(testDir, "two-teams.duckdb")
		db, err := warehouse.Open(ctx, twoTeams.path, warehouse.Options{})
		if err != nil {
			twoTeams.err = err
			return
		}
		defer db.Close()
		if _, err := file.Load(ctx, db, []string{"testdata/two-teams.jsonl"}, file.Options{Source: "fixture", Now: func() time.Time { return loaded }}); err != nil {
			twoTeams.err = err
			return
		}
		twoTeams.err = transform.Run(ctx, db, config.Default(), transform.Options{})
	})
	if twoTeams.err != nil {
		t.Fatal(twoTeams.err)
	}
	return twoTeams.path
}

var twoTeams struct {
	once sync.Once
	path string
	err  error
}

// testDir holds the package's shared warehouse; TestMain removes it.
var testDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shiplog-metrics-test")
	if err != nil {
		panic(err)
	}
	testDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs `shiplog metrics args` on the warehouse at path, on a terminal
// of width columns (0: piped), and returns stdout, stderr and the error.
func run(t *testing.T, path string, width int, args ...string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	if width > 0 {
		ios.SetStdoutTTY(true)
		ios.SetStderrTTY(true)
		ios.SetTerminalWidth(width)
	}
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path, Now: func() time.Time { return now }}
	f.SetConfig(config.Default())
	cmd := NewCmdMetrics(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestTerminalGolden(t *testing.T) {
	path := TwoTeams(t)
	window := []string{"--from", "2026-01-01", "--to", "2026-02-01"}
	for _, tt := range []struct {
		name  string
		width int
		args  []string
	}{
		{"teams-80.golden", 80, []string{"--level", "team"}},
		{"teams-200.golden", 200, []string{"--level", "team"}},
		{"services-80.golden", 80, []string{"--by", "week"}},
		{"teams-wide.golden", 80, []string{"--level", "team", "--wide"}},
		{"teams.tsv.golden", 0, []string{"--level", "team"}},
		{"teams.csv.golden", 0, []string{"--level", "team", "--format", "csv"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, path, tt.width, append(append([]string{}, window...), tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, out)
			if tt.width == 80 && !slices.Contains(tt.args, "--wide") {
				for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if n := utf8.RuneCountInString(l); n > 80 {
						t.Errorf("%d characters: %q", n, l)
					}
				}
			}
		})
	}
}

func TestTerminalValues(t *testing.T) {
	path := TwoTeams(t)
	out, errOut, err := run(t, path, 80, "--level", "team", "--from", "2026-01-01", "--to", "2026-02-01")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	// The hand-worked values of TwoTeams, in human units, tiers beside.
	pay, web := strings.Join(strings.Fields(lines[1]), " "), strings.Join(strings.Fields(lines[2]), " ")
	if !strings.HasPrefix(pay, "pay 6 ") || !strings.Contains(pay, " 24 h ") || !strings.Contains(pay, " 33.3 % low ") ||
		!strings.Contains(pay, " 25 h ") || !strings.Contains(pay, " 16.7 % ") || !strings.HasSuffix(pay, " 1.0 h") {
		t.Errorf("pay row: %q", pay)
	}
	if !strings.HasPrefix(web, "web 2 ") || !strings.Contains(web, " 3.0 d ") || !strings.HasSuffix(web, " unknown unknown 0 % unknown") {
		t.Errorf("web row: %q", web)
	}
	// The period shown and the coverage, on stderr: January, whose data
	// begins on the 2nd; the file was loaded on 3 February. Team web has
	// no incident ever ingested: its failure rate, recovery time and MTTR
	// are unknown, not 0 % (elite), and stderr says why.
	want := "period: 2026-01-01 to 2026-01-31, partial: deployments begin 2026-01-02\n" +
		"data: deployments 2026-01-02 to 2026-01-14; last ingest 2026-02-03 00:00 UTC\n" +
		"      (fixture)\n" + // wrapped under its text at 80 columns
		"unknown (no incident source): web\n"
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant\n%s", errOut, want)
	}
	// Piped: no notes on stderr, raw values.
	piped, errOut, err := run(t, path, 0, "--level", "team", "--from", "2026-01-01", "--to", "2026-02-01",
		"--columns", "team,change_failure_rate,recovery_median_hours,rework_rate,lead_time_median_hours")
	if err != nil || errOut != "" {
		t.Fatal(err, errOut)
	}
	if piped != "team\tchange_failure_rate\trecovery_median_hours\trework_rate\tlead_time_median_hours\n"+
		"pay\t0.3333\t25\t0.1667\t24\nweb\t\t\t0\t72\n" {
		t.Errorf("piped:\n%s", piped)
	}
}

func TestDefaultLevel(t *testing.T) {
	path := TwoTeams(t)
	window := []string{"--from", "2026-01-01", "--to", "2026-02-01", "--columns"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		// --team alone: the team's row, not its services'
		{[]string{"team,deployments", "--team", "pay"}, "team\tdeployments\npay\t6\n"},
		{[]string{"team,deployments", "--team", "Payments"}, "team\tdeployments\npay\t6\n"},
		{[]string{"service,deployments", "--team", "pay", "--level", "service"}, "service\tdeployments\napi\t3\npayment-gateway\t3\n"},
		{[]string{"department,deployments", "--department", "product"}, "department\tdeployments\nproduct\t2\n"},
		{[]string{"service,deployments", "--service", "API"}, "service\tdeployments\napi\t3\n"},
		{[]string{"service,deployments"}, "service\tdeployments\napi\t3\npayment-gateway\t3\nsite\t2\n"},
	} {
		out, _, err := run(t, path, 0, append(append([]string{}, window...), tt.args...)...)
		if err != nil || out != tt.want {
			t.Errorf("%v: %v\n%s\nwant\n%s", tt.args, err, out, tt.want)
		}
	}
}

func TestUnknownNames(t *testing.T) {
	path := TwoTeams(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--team", "paymnts"}, `unknown team "paymnts"; did you mean "pay"?`},
		{[]string{"--service", "payment-gatway"}, `unknown service "payment-gatway"; did you mean "payment-gateway"?`},
		{[]string{"--department", "finanse"}, `unknown department "finanse"; did you mean "finance"?`},
		{[]string{"--team", "web", "--department", "finance"}, "no team of web is in department finance"},
		{[]string{"--level", "team", "--columns", "team,rewrok_rate"}, `unknown column "rewrok_rate"; did you mean "rework_rate"?`},
		{[]string{"--environment", "prodution"}, `unknown production environment "prodution"; did you mean "production"?`},
	} {
		out, _, err := run(t, path, 0, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || cmdutil.ExitCode(err) != cmdutil.ExitUsage || out != "" {
			t.Errorf("%v: err = %v (exit %d), output %q; want %q and exit 2", tt.args, err, cmdutil.ExitCode(err), out, tt.want)
		}
	}
}

func TestJSONPeriodAndCoverage(t *testing.T) {
	path := TwoTeams(t)
	out, _, err := run(t, path, 0, "--team", "pay", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		From   *string
		Level  string
		Period struct {
			From, To, State string
			Default         bool
		}
		Coverage struct {
			GeneratedAt string `json:"generated_at"`
			From, To    string
			LastIngest  string `json:"last_ingest"`
			Stale       bool
		}
		Kinds map[string]string
		Rows  []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// No --from: the filter's from stays null, the period shown is the
	// deployments' days (2 to 14 January, the end exclusive).
	if doc.From != nil || doc.Level != "team" || doc.Period.From != "2026-01-02T00:00:00Z" || doc.Period.To != "2026-01-15T00:00:00Z" ||
		doc.Period.State != "complete" || doc.Coverage.GeneratedAt != "2026-02-05T00:00:00Z" || doc.Coverage.From != "2026-01-02T09:00:00Z" ||
		doc.Coverage.To != "2026-01-14T12:00:00Z" || doc.Coverage.LastIngest != "2026-02-03T00:00:00Z" || doc.Coverage.Stale {
		t.Errorf("document:\n%s", out)
	}
	r := doc.Rows[0]
	if len(doc.Rows) != 1 || r["team"] != "pay" || r["change_failure_rate"] != 0.3333 || r["recovery_median_hours"] != float64(25) ||
		r["period_coverage"] != "complete" || doc.Kinds["change_failure_rate"] != "rate" || doc.Kinds["recovery_median_hours"] != "hours" {
		t.Errorf("row: %v", r)
	}
}

// TestNamesOnlyChangesKnow resolves a service that no deployment,
// incident or declaration names, only a change: the dimension alone does
// not know it, so the whole catalog is asked, and it still resolves (in
// any case, to a table with no row, as it has no deployment); a
// misspelling of it is refused with it as the suggestion.
func TestNamesOnlyChangesKnow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/two-teams.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte(`{"kind":"change","id":"d1","service":"docs-site","first_commit_at":"2026-01-03T10:00:00Z"}`+"\n")...)
	src := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Load(ctx, db, []string{src}, file.Options{Source: "fixture", Now: func() time.Time { return loaded }}); err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, _, err := run(t, path, 0, "--service", "Docs-Site", "--format", "csv")
	if err != nil {
		t.Fatalf("--service Docs-Site: %v", err)
	}
	// Known, with no deployment: the header and no row.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "service,") {
		t.Errorf("--service Docs-Site: want the header alone, got\n%s", out)
	}
	_, _, err = run(t, path, 0, "--service", "docs-sit")
	if want := `unknown service "docs-sit"; did you mean "docs-site"?`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("--service docs-sit: err = %v, want %q", err, want)
	}
}
