package reports

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/output"
)

// The fixture is an organisation of two teams over October 2026 (the
// default period when the clock says 2026-11-15), compared with September.
// Every figure the reports print from it is worked out in
// testdata/README.md.

const injection = `</script><img src=x onerror=alert(1)>`

var fixedNow = time.Date(2026, 11, 15, 9, 30, 0, 0, time.UTC)

var (
	oct = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	nov = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sep = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
)

var metricColumns = []string{"period_start", "period_end", "deployments", "deployments_per_day", "deployment_days_per_week",
	"deploy_interval_median_hours", "lead_time_median_hours", "lead_time_p75_hours", "lead_time_p90_hours",
	"lead_time_changes", "lead_time_excluded", "change_failure_rate", "failed_deployments",
	"recovery_median_hours", "recovery_p75_hours", "recovery_p90_hours", "unrecovered_failures",
	"rework_rate", "unplanned_deployments", "mttr_median_hours", "mtta_median_hours", "incidents",
	"deployment_frequency_tier", "lead_time_tier", "change_failure_rate_tier", "recovery_time_tier",
	"rework_rate_tier"}

// m builds one metrics row: key, period and the named values; every other
// metric is NULL.
func m(key string, from, to time.Time, vals map[string]any) []any {
	r := []any{key, from, to}
	for _, c := range metricColumns[2:] {
		r = append(r, vals[c])
	}
	return r
}

func metricsTable(level string, rows ...[]any) *output.Table {
	return &output.Table{Columns: append([]string{level}, metricColumns...), Rows: rows}
}

const coreTeam = "core <platform>"

// Organisation, October: 24 deployments, 3 failed (1 in 8), 2 unplanned.
var orgOct = map[string]any{
	"deployments": int64(24), "deployments_per_day": 24.0 / 31, "deployment_days_per_week": 4.0,
	"deploy_interval_median_hours": 20.5, "lead_time_median_hours": 30.0, "lead_time_p75_hours": 50.0,
	"lead_time_p90_hours": 72.0, "lead_time_changes": int64(40), "lead_time_excluded": int64(2),
	"change_failure_rate": 0.125, "failed_deployments": int64(3), "recovery_median_hours": 3.0,
	"recovery_p75_hours": 5.0, "recovery_p90_hours": 8.0, "unrecovered_failures": int64(0),
	"rework_rate": 2.0 / 24, "unplanned_deployments": int64(2), "mttr_median_hours": 4.5,
	"mtta_median_hours": 0.25, "incidents": int64(5),
	"deployment_frequency_tier": "high", "lead_time_tier": "high", "change_failure_rate_tier": "medium",
	"recovery_time_tier": "high",
}

// Organisation, September: 20 deployments, 1 failed.
var orgSep = map[string]any{
	"deployments": int64(20), "deployment_days_per_week": 3.0, "lead_time_median_hours": 36.0,
	"lead_time_changes": int64(30), "change_failure_rate": 0.05, "failed_deployments": int64(1),
	"recovery_median_hours": 2.0, "unrecovered_failures": int64(0), "rework_rate": 0.05,
	"unplanned_deployments": int64(1), "incidents": int64(2),
}

// Team payments, October: no production deployment at all.
var paymentsOct = map[string]any{"deployments": int64(0), "failed_deployments": int64(0), "incidents": int64(0)}

// gateOverrideColumns are wider than any page: the gate-override
// control's 17 evidence columns and the exemption, some
// with long values (a commit hash, a link, the failed criteria with their
// measured values and thresholds). Each value is distinct, so a test can look for every one.
var gateOverrideColumns = []string{"subject", "deployment_id", "service", "version", "commit_sha", "triggered_by", "started_at", "finished_at",
	"decision_id", "decision", "failed_criteria", "decided_by", "decided_at", "override_reason", "deployment_url", "outcome", "rule", "exempt"}

var gateOverrideRow = []any{"deploy-checkout-api-0375", "deploy-checkout-api-0375", "checkout-api", "1.183.0", "a529a4c86b78c901f06577894ad885ed8ac7ad40",
	"deploy-bot", ts("2026-10-29T11:25:39Z"), ts("2026-10-29T11:41:27Z"), int64(4), "no-go",
	"tests: pass rate 91.2% (1234 of 1353) (threshold: pass rate >= 98%); change failure rate: change failure rate 30.8% (4 of 13) (threshold: change failure rate <= 25%)",
	"release-bot", ts("2026-10-29T09:41:27Z"), nil,
	"ci.example/shop/checkout-api/deployments/deploy-checkout-api-0375/attempts/2?suite=integration_and_contract_tests",
	"failed", "deployed after a NO-GO gate decision without an override reason", nil}

// fakeData answers from tables in memory and checks every named query's
// parameters against the header of its SQL file.
type fakeData struct {
	t       testing.TB
	metrics func(f MetricsFilter) *output.Table
	queries map[string]*output.Table
	audit   []ControlResult
	failOn  string
	// cov is what Coverage returns (nil: the data layer cannot say).
	cov *coverage.Coverage

	mu    sync.Mutex
	calls []string
}

func (d *fakeData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	d.mu.Lock()
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k+"="+params[k])
	}
	sort.Strings(keys)
	d.calls = append(d.calls, "query "+name+" "+strings.Join(keys, " "))
	d.mu.Unlock()
	if name == d.failOn {
		return nil, fmt.Errorf("query %s failed", name)
	}
	declared := queryParams(d.t, name)
	for k := range params {
		if _, ok := declared[k]; !ok {
			return nil, fmt.Errorf("query %s: unknown param %q", name, k)
		}
	}
	t, ok := d.queries[name]
	if !ok {
		return nil, fmt.Errorf("query %s: no fixture", name)
	}
	return t, nil
}

func (d *fakeData) Metrics(ctx context.Context, f MetricsFilter) (*output.Table, error) {
	d.mu.Lock()
	d.calls = append(d.calls, fmt.Sprintf("metrics %s %s %s..%s %v", f.Level, f.By, day(f.From), day(f.To), f.Teams))
	d.mu.Unlock()
	if d.failOn == "metrics" {
		return nil, fmt.Errorf("metrics failed")
	}
	t := d.metrics(f)
	if len(f.Teams) > 0 && len(t.Columns) > 0 && t.Columns[0] == "team" {
		keep := map[string]bool{}
		for _, team := range f.Teams {
			keep[team] = true
		}
		out := &output.Table{Columns: t.Columns}
		for _, r := range t.Rows {
			if keep[r[0].(string)] {
				out.Rows = append(out.Rows, r)
			}
		}
		return out, nil
	}
	return t, nil
}

// covData is a fakeData that reports its coverage (a CoverageData).
type covData struct{ *fakeData }

func (d covData) Coverage(ctx context.Context, now time.Time) (*coverage.Coverage, error) {
	return d.cov, nil
}

// fixtureCoverage is deployments (source "file") on every day from first
// to last, incidents on the same days, and one successful ingest at
// ingest.
func fixtureCoverage(now, first, last, ingest time.Time) *coverage.Coverage {
	var counts []coverage.Count
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		counts = append(counts, coverage.Count{Source: "file", Kind: "deployment", Day: d, N: 2},
			coverage.Count{Source: "pagerduty", Kind: "incident", Day: d, N: 1})
	}
	return coverage.New(now, 7*24*time.Hour, counts, []coverage.Ingest{
		{Source: "file", LastSuccess: ingest, LastRun: ingest, LastStatus: "success", Runs: 1},
		{Source: "pagerduty", LastSuccess: ingest, LastRun: ingest, LastStatus: "success", Runs: 1},
	})
}

func (d *fakeData) Audit(ctx context.Context, from, to time.Time) ([]ControlResult, error) {
	if d.failOn == "audit" {
		return nil, fmt.Errorf("audit failed")
	}
	return d.audit, nil
}

var paramRE = regexp.MustCompile(`^--\s*param:\s*(\w+)\s`)

// queryParams reads the parameters declared in queries/reports/NAME.sql.
func queryParams(t testing.TB, name string) map[string]bool {
	f, err := os.Open(filepath.Join("..", "queries", "reports", name+".sql"))
	if err != nil {
		t.Errorf("query %s: %v", name, err)
		return nil
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := paramRE.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// newFixture returns the data of the golden reports.
func newFixture(t testing.TB) *fakeData {
	return &fakeData{
		t: t,
		metrics: func(f MetricsFilter) *output.Table {
			cur := f.From.Equal(oct) && f.To.Equal(nov)
			prev := f.From.Equal(sep) && f.To.Equal(oct)
			switch {
			case f.By == "month":
				// Trend: the last three of the twelve months have data.
				months := []time.Time{time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), sep, oct}
				vals := []map[string]any{{"deployments": int64(18), "lead_time_median_hours": 40.0, "change_failure_rate": 0.0, "failed_deployments": int64(0), "rework_rate": 0.0, "unplanned_deployments": int64(0)}, orgSep, orgOct}
				key := f.Level
				if f.Level == "team" {
					key = coreTeam
				}
				var rows [][]any
				for i, mo := range months {
					rows = append(rows, m(key, mo, mo.AddDate(0, 1, 0), vals[i]))
				}
				if f.Level == "team" {
					rows = append(rows, m("payments", oct, nov, paymentsOct))
				}
				return metricsTable(f.Level, rows...)
			case f.Level == "org" && cur:
				return metricsTable("org", m("org", oct, nov, orgOct))
			case f.Level == "org" && prev:
				return metricsTable("org", m("org", sep, oct, orgSep))
			case f.Level == "team" && cur:
				return metricsTable("team", m(coreTeam, oct, nov, orgOct), m("payments", oct, nov, paymentsOct))
			case f.Level == "team" && prev:
				return metricsTable("team", m(coreTeam, sep, oct, orgSep))
			case f.Level == "service" && len(f.Teams) == 1 && f.Teams[0] == "payments":
				return metricsTable("service")
			case f.Level == "service" && cur:
				return metricsTable("service",
					m("checkout", oct, nov, map[string]any{"deployments": int64(8), "failed_deployments": int64(2), "change_failure_rate": 0.25, "recovery_median_hours": 1.5, "unrecovered_failures": int64(0)}),
					m("search", oct, nov, map[string]any{"deployments": int64(10), "failed_deployments": int64(1), "change_failure_rate": 0.1, "recovery_median_hours": 9.0, "unrecovered_failures": int64(0)}),
					m("billing", oct, nov, map[string]any{"deployments": int64(6), "failed_deployments": int64(1), "change_failure_rate": 1.0 / 6, "unrecovered_failures": int64(1)}),
				)
			case f.Level == "service" && prev:
				return metricsTable("service",
					m("checkout", sep, oct, map[string]any{"deployments": int64(8), "failed_deployments": int64(0), "change_failure_rate": 0.0}),
					m("search", sep, oct, map[string]any{"deployments": int64(7), "failed_deployments": int64(1), "change_failure_rate": 1.0 / 7, "recovery_median_hours": 2.0}),
				)
			}
			return metricsTable(f.Level)
		},
		queries: map[string]*output.Table{
			"retro-timeline-days": {Columns: []string{"day", "kind", "events"}, Rows: [][]any{
				{"2026-10-05", "deployment", int64(3)}, {"2026-10-05", "incident", int64(1)},
				{"2026-10-06", "failed deployment", int64(1)}, {"2026-10-06", "rollback", int64(1)},
				{"2026-10-07", "deployment", int64(2)},
			}},
			"retro-events": {Columns: []string{"occurred_at", "kind", "service", "id", "detail"}, Rows: [][]any{
				{ts("2026-10-05T10:00:00Z"), "deployment", "checkout", "d-1", "v1.4.0"},
				{ts("2026-10-05T11:15:00Z"), "incident", "checkout", "inc-7", "sev2: " + injection},
			}},
			"retro-lead-time-stages": {Columns: []string{"week", "changes", "coding_hours", "pickup_hours", "review_hours", "deploy_hours"}, Rows: [][]any{
				{"2026-09-28", int64(4), 10.0, 5.5, 3.0, 2.0},
				{"2026-10-05", int64(6), 8.0, nil, 2.5, 1.0},
			}},
			"retro-slowest-changes": {Columns: []string{"change_id", "service", "title", "author", "lead_time_hours", "coding_hours", "pickup_hours", "review_hours", "deploy_hours", "deployed_at"}, Rows: [][]any{
				{"shop/checkout#42", "checkout", injection, "ana", 120.5, 80.0, 20.0, 15.5, 5.0, ts("2026-10-07T16:00:00Z")},
				{"shop/search#9", "search", "Faster & safer <search>", "bo", 50.0, 30.0, 10.0, 5.0, 5.0, ts("2026-10-08T09:00:00Z")},
			}},
			"retro-failed-deployments": {Columns: []string{"deployment_id", "service", "version", "finished_at", "reason", "incidents", "restored_by_deployment", "recovered_at", "recovery_hours"}, Rows: [][]any{
				{"d-2", "checkout", "v1.4.1", ts("2026-10-06T08:00:00Z"), "rollback", nil, "d-3", ts("2026-10-06T09:30:00Z"), 1.5},
			}},
			"retro-incidents-by-severity": {Columns: []string{"severity", "incidents", "resolved", "ack_median_hours", "resolve_median_hours"}, Rows: [][]any{
				{"sev1", int64(1), int64(1), 0.1, 2.0}, {"sev2", int64(4), int64(3), 0.5, 6.0},
			}},
			"retro-support-impact": {Columns: []string{"release", "deployment_id", "service", "finished_at", "tickets_after", "expected_after", "ratio"}, Rows: [][]any{
				{"checkout v1.4.0", "d-1", "checkout", ts("2026-10-05T10:00:00Z"), int64(9), 3.0, 3.0},
			}},
			"retro-deploy-heatmap": {Columns: []string{"weekday", "hour", "deployments"}, Rows: [][]any{
				{"Mon", "10", int64(3)}, {"Mon", "11", int64(0)}, {"Tue", "10", int64(1)}, {"Tue", "11", int64(2)},
			}},
			"retro-adoption": {Columns: []string{"feature", "day", "share"}, Rows: [][]any{
				{"checkout: " + injection, "day 1", 0.1}, {"checkout: " + injection, "day 7", 0.3}, {"checkout: " + injection, "day 30", 0.55},
			}},
			"report-major-incidents": {Columns: []string{"incident_id", "severity", "service", "title", "opened_at", "resolved_at", "resolve_hours", "attributed_deployment"}, Rows: [][]any{
				{"inc-3", "sev1", "billing", "Payments declined", ts("2026-10-12T08:00:00Z"), ts("2026-10-12T14:30:00Z"), 6.5, "d-8"},
				{"inc-7", "sev2", "checkout", injection, ts("2026-10-05T11:15:00Z"), nil, nil, nil},
			}},
			"audit-row-counts": {Columns: []string{"table", "rows"}, Rows: [][]any{{"deployments", int64(44)}, {"incidents", int64(7)}}},
			"audit-ingest-runs": {Columns: []string{"id", "source", "target", "started_at", "finished_at", "rows_read", "rows_written", "rows_rejected", "status"}, Rows: [][]any{
				{int64(1), "file", "demo.jsonl", ts("2026-11-01T00:00:00Z"), ts("2026-11-01T00:00:05Z"), int64(51), int64(51), int64(0), "success"},
			}},
		},
		audit: []ControlResult{
			{Control: "self-approval", Description: "A change request approved only by its requester.", Version: "0a1b2c3d4e5f", Checked: 12, Failed: 0,
				Population: "change requests",
				Findings:   &output.Table{Columns: []string{"change_request", "approver"}}},
			{Control: "unapproved-production-change", Description: "Production deployment without an approved change request.", Version: "5f4e3d2c1b0a", Checked: 24, Failed: 2,
				Population: "production deployments", Outcomes: map[string]int64{"evidence": 10, "pre_approved": 12, "failed": 2},
				Findings: &output.Table{Columns: []string{"deployment_id", "service", "change_request", "reason"}, Rows: [][]any{
					{"d-5", "checkout", nil, "no change request"},
					{"d-9", "search", "CR-3", injection},
				}}},
			// One finding among 500: the chart must still show it.
			{Control: "deployer-not-allowed", Description: "Production deployment triggered by someone outside the allowed deployers.", Version: "99aa88bb77cc", Checked: 500, Failed: 1,
				Population: "production deployments",
				Findings: &output.Table{Columns: []string{"subject", "deployment_id", "service", "triggered_by", "allowed_deployers", "rule", "exempt"}, Rows: [][]any{
					{"d-77", "d-77", "ledger", "hana", []any{"deploy-bot", "alice", "bruno"}, "hana is not an allowed deployer", nil},
				}}},
			{Control: "gate-override", Description: "Release deployed after a NO-GO gate decision without a recorded override.", Version: "c0ffee123456", Checked: 4, Failed: 1,
				Population: "production deployments", Outcomes: map[string]int64{"evidence": 2, "override": 1, "failed": 1},
				Findings: &output.Table{Columns: gateOverrideColumns, Rows: [][]any{gateOverrideRow}}},
		},
	}
}
