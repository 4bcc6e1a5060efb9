package coverage

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func d(s string) time.Time { return ts(s + "T00:00:00Z") }

// load builds a warehouse from SQL and reads its coverage as of now.
func load(t *testing.T, now time.Time, staleAfter time.Duration, stmts ...string) *Coverage {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	c, err := Load(ctx, output.DB(db), now, staleAfter)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Deployments from GitHub Actions ("gh") 2025-12-15 .. 2026-02-10, one of
// them late on 31 January in UTC-2 (1 February in UTC); incidents from
// PagerDuty ("pd") 2026-01-05 .. 2026-03-02; teams and services from a file
// that left no ingest record. gh last succeeded 2026-02-10 09:00 and failed
// after; pd succeeded 2026-03-02 11:00.
var rows = []string{
	`insert into teams (id, source) values ('pay', 'file'), ('web', 'file')`,
	`insert into services (id, team, source) values ('api', 'pay', 'file'), ('site', 'web', 'file'), ('ledger', 'pay', 'file')`,
	`insert into deployments (id, service, environment, status, finished_at, source) values
	 ('d1', 'api', 'production', 'success', '2025-12-15 10:00:00+00', 'gh'),
	 ('d2', 'api', 'production', 'success', '2026-01-10 12:00:00+00', 'gh'),
	 ('d3', 'api', 'production', 'failure', '2026-01-20 23:30:00+01', 'gh'),
	 ('d4', 'site', 'staging', 'success', '2026-01-31 23:30:00-02', 'gh'),
	 ('d5', 'site', 'production', 'success', '2026-02-10 08:00:00+00', 'gh')`,
	`insert into incidents (id, service, severity, opened_at, source) values
	 ('i1', 'api', 'sev1', '2026-01-05 09:00:00+00', 'pd'),
	 ('i2', 'api', 'sev2', '2026-03-02 10:00:00+00', 'pd')`,
	`insert into adoption (service, feature, day, active_users, source) values ('api', 'f', '2026-01-15', 10, 'gh')`,
	`insert into ingest_runs (source, started_at, finished_at, status) values
	 ('gh', '2026-02-10 08:55:00+00', '2026-02-10 09:00:00+00', 'success'),
	 ('gh', '2026-02-12 08:55:00+00', '2026-02-12 08:56:00+00', 'failed'),
	 ('pd', '2026-03-02 10:59:00+00', '2026-03-02 11:00:00+00', 'success')`,
}

func TestSources(t *testing.T) {
	c := load(t, ts("2026-03-20T00:00:00Z"), 7*24*time.Hour, rows...)
	var got []string
	for _, s := range c.Sources {
		got = append(got, strings.Join([]string{s.Kind, s.Source, s.Table, itoa(s.Rows),
			fmtT(s.First), fmtT(s.Last), fmtT(s.LastIngest)}, " "))
	}
	want := []string{
		"team file teams 2 - - -",
		"service file services 3 - - -",
		"deployment gh deployments 5 2025-12-15T10:00:00Z 2026-02-10T08:00:00Z 2026-02-10T09:00:00Z",
		"incident pd incidents 2 2026-01-05T09:00:00Z 2026-03-02T10:00:00Z 2026-03-02T11:00:00Z",
		"adoption gh adoption 1 2026-01-15T00:00:00Z 2026-01-15T00:00:00Z 2026-02-10T09:00:00Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sources:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	gh := c.Ingests[0]
	if len(c.Ingests) != 2 || gh.Source != "gh" || gh.Runs != 2 || gh.LastStatus != "failed" ||
		!gh.LastSuccess.Equal(ts("2026-02-10T09:00:00Z")) || !gh.LastRun.Equal(ts("2026-02-12T08:55:00Z")) {
		t.Errorf("ingests: %+v", c.Ingests)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func fmtT(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func TestRangeAndEvents(t *testing.T) {
	c := load(t, ts("2026-03-20T00:00:00Z"), 7*24*time.Hour, rows...)
	r := c.Range("deployment")
	// Through is gh's last success (09:00), after its last event (08:00).
	if !r.First.Equal(ts("2025-12-15T10:00:00Z")) || !r.Last.Equal(ts("2026-02-10T08:00:00Z")) ||
		!r.Through.Equal(ts("2026-02-10T09:00:00Z")) || r.Rows != 5 {
		t.Errorf("deployments: %+v", r)
	}
	all := c.Range()
	if !all.First.Equal(ts("2025-12-15T10:00:00Z")) || !all.Last.Equal(ts("2026-03-02T10:00:00Z")) ||
		!all.Through.Equal(ts("2026-03-02T11:00:00Z")) || all.Rows != 8 {
		t.Errorf("all kinds: %+v", all)
	}
	// d3 (23:30+01) is 20 January in UTC; d4 (23:30-02 on the 31st) is
	// 1 February.
	for _, tt := range []struct {
		from, to string
		want     int64
	}{
		{"2026-01-01", "2026-02-01", 2}, {"2026-02-01", "2026-03-01", 2}, {"2026-01-20", "2026-01-21", 1}, {"2026-03-01", "2026-04-01", 0},
	} {
		if got := c.Events(d(tt.from), d(tt.to), "deployment"); got != tt.want {
			t.Errorf("Events(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestPeriodStates(t *testing.T) {
	c := load(t, ts("2026-03-20T00:00:00Z"), 7*24*time.Hour, rows...)
	tests := []struct {
		from, to   string
		kinds      []string
		want       State
		wantReason string
	}{
		{"2025-12-01", "2026-01-01", []string{"deployment"}, Partial, "deployments begin 2025-12-15"},
		{"2026-01-01", "2026-02-01", []string{"deployment"}, Complete, ""},
		{"2026-02-01", "2026-03-01", []string{"deployment"}, Partial, "deployments known up to 2026-02-10"},
		{"2026-03-01", "2026-04-01", []string{"deployment"}, Empty, "nothing in this period; deployments run 2025-12-15 to 2026-02-10"},
		// incidents are known through 2 March (pd's ingest): a window from
		// the first to the last incident's day is complete
		{"2026-01-05", "2026-03-03", []string{"incident"}, Complete, ""},
		{"2026-01-05", "2026-03-04", []string{"incident"}, Partial, "incidents known up to 2026-03-02"},
		{"2026-01-01", "2026-02-01", []string{"change"}, Empty, "the warehouse has no changes"},
		// open ends come from the data: 15 December to the day after 10 February
		{"", "", []string{"deployment"}, Complete, ""},
	}
	for _, tt := range tests {
		var from, to time.Time
		if tt.from != "" {
			from, to = d(tt.from), d(tt.to)
		}
		p := c.Period(from, to, tt.kinds...)
		if p.State != tt.want || p.Reason != tt.wantReason {
			t.Errorf("Period(%s, %s, %v) = %s %q, want %s %q", tt.from, tt.to, tt.kinds, p.State, p.Reason, tt.want, tt.wantReason)
		}
	}
	p := c.Period(time.Time{}, time.Time{}, "deployment")
	if !p.From.Equal(d("2025-12-15")) || !p.To.Equal(d("2026-02-11")) || p.Text() != "2025-12-15 to 2026-02-10" {
		t.Errorf("all data: %+v %q", p, p.Text())
	}
	if got := c.Period(d("2026-02-01"), d("2026-03-01"), "deployment").Text(); got != "2026-02-01 to 2026-02-28, partial: deployments known up to 2026-02-10" {
		t.Errorf("Text = %q", got)
	}
}

func TestDefault(t *testing.T) {
	c := load(t, ts("2026-03-20T00:00:00Z"), 7*24*time.Hour, rows...)
	tests := []struct {
		unit, from, to string
		state          State
	}{
		// February is partial (known up to the 10th), January complete.
		{"month", "2026-01-01", "2026-02-01", Complete},
		// No quarter is complete: the last one with data, marked partial.
		{"quarter", "2026-01-01", "2026-04-01", Partial},
		// Weeks start on Monday: the week of 9 February is partial, that of
		// 2 February empty; d4 (Sunday 1 February, UTC) makes the week of
		// 26 January complete.
		{"week", "2026-01-26", "2026-02-02", Complete},
	}
	for _, tt := range tests {
		p := c.Default(tt.unit, "deployment")
		if !p.From.Equal(d(tt.from)) || !p.To.Equal(d(tt.to)) || p.State != tt.state || !p.Default {
			t.Errorf("Default(%s) = %s .. %s %s, want %s .. %s %s", tt.unit, p.From, p.To, p.State, tt.from, tt.to, tt.state)
		}
	}
	empty := load(t, ts("2026-03-20T00:00:00Z"), 0)
	if p := empty.Default("month"); p.State != Empty || !p.From.IsZero() || p.Reason != "the warehouse has no data" {
		t.Errorf("empty warehouse: %+v", p)
	}
}

func TestStaleAndSummary(t *testing.T) {
	now := ts("2026-03-20T00:00:00Z")
	// The latest success is pd's, 2 March 11:00: 17.5 days before now.
	c := load(t, now, 7*24*time.Hour, rows...)
	want := "data: deployments 2025-12-15 to 2026-02-10; last ingest 2026-03-02 11:00 UTC (pd); STALE: 18 days old, over 7 days"
	if !c.Stale() || c.Summary("deployment") != want {
		t.Errorf("stale: %v %q\nwant %q", c.Stale(), c.Summary("deployment"), want)
	}
	c.StaleAfter = 30 * 24 * time.Hour
	if c.Stale() || strings.Contains(c.Summary(), "STALE") {
		t.Errorf("30 days: %q", c.Summary())
	}
	c.StaleAfter = 0
	if c.Stale() {
		t.Error("stale_after 0 still warns")
	}
	// Rows written by SQL, no ingest recorded: not stale, and said so.
	bare := load(t, now, 7*24*time.Hour, rows[2])
	if bare.Stale() || bare.Summary("deployment") != "data: deployments 2025-12-15 to 2026-02-10; no ingest recorded" {
		t.Errorf("no ingest: %q", bare.Summary("deployment"))
	}
	// Ingests ran, none succeeded: stale.
	failed := load(t, now, 7*24*time.Hour, rows[2],
		`insert into ingest_runs (source, started_at, status) values ('gh', '2026-03-19 00:00:00+00', 'failed')`)
	if !failed.Stale() || !strings.HasSuffix(failed.Summary("deployment"), "; no ingest has succeeded; STALE") {
		t.Errorf("failed ingests: %q", failed.Summary("deployment"))
	}
}

func TestDocument(t *testing.T) {
	c := load(t, ts("2026-03-20T00:00:00Z"), 7*24*time.Hour, rows...)
	doc := c.Document("deployment")
	if doc["generated_at"] != "2026-03-20T00:00:00Z" || doc["from"] != "2025-12-15T10:00:00Z" || doc["to"] != "2026-02-10T08:00:00Z" ||
		doc["through"] != "2026-02-10T09:00:00Z" || doc["last_ingest"] != "2026-03-02T11:00:00Z" || doc["stale"] != true ||
		doc["stale_after_hours"] != 168.0 || len(doc["sources"].([]any)) != 5 {
		t.Errorf("document: %v", doc)
	}
	p := c.Period(d("2026-03-01"), d("2026-04-01"), "deployment").Document()
	if p["from"] != "2026-03-01T00:00:00Z" || p["to"] != "2026-04-01T00:00:00Z" || p["state"] != "empty" || p["default"] != false {
		t.Errorf("period document: %v", p)
	}
}

func TestEventTimes(t *testing.T) {
	got := map[string]string{}
	for _, e := range EventTimes() {
		got[e.Kind] = e.Column
	}
	for kind, col := range map[string]string{
		"team": "", "service": "", "deployment": `"finished_at"`, "change": `"first_commit_at"`, "commit": `"authored_at"`,
		"incident": `"opened_at"`, "change_request": `"created_at"`, "approval": `"decided_at"`, "support_ticket": `"created_at"`,
		"test_run": `"started_at"`, "adoption": `timezone('UTC', "day"::TIMESTAMP)`, "release_plan": `"planned_at"`,
	} {
		if got[kind] != col {
			t.Errorf("%s: event time %q, want %q", kind, got[kind], col)
		}
	}
}
