package calendar

import (
	"bytes"
	"context"
	"database/sql"
	"github.com/shiplog/shiplog/internal/fixture"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

const fixturePath = "../testdata/calendar/calendar.jsonl"

// testConfig is the configuration testdata/calendar/README.md works with.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	err := config.Parse([]byte(`
calendar:
  time_zone: Europe/Berlin
  release_windows:
    - days: [mon, tue, wed, thu]
      start: "09:00"
      end: "16:00"
  freezes:
    - name: spring
      start: "2026-03-30 12:00"
      end: "2026-04-02 00:00"
`), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func fixtureDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, fixturePath)
	// the readers read the marts only
	if err := transform.Run(context.Background(), db, testConfig(t), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

type wantConflict struct {
	kind, event, other string
	start, end         string
}

func conflictKeys(c *Calendar) []wantConflict {
	var got []wantConflict
	for _, x := range c.Conflicts {
		w := wantConflict{kind: x.Kind, event: x.Event.ID, start: x.Start.Format(time.RFC3339), end: x.End.Format(time.RFC3339)}
		if x.Other != nil {
			w.other = x.Other.ID
		}
		got = append(got, w)
	}
	return got
}

// The expected conflicts are worked out in testdata/calendar/README.md.
var wantConflicts = []wantConflict{
	{ConflictWindow, "d-batch-2", "", "2026-03-23T07:30:00Z", "2026-03-23T08:30:00Z"},
	{ConflictEnvironment, "cr-1", "d-web-1", "2026-03-26T09:00:00Z", "2026-03-26T10:00:00Z"},
	{ConflictEnvironment, "d-web-1", "d-db-1", "2026-03-26T09:30:00Z", "2026-03-26T10:00:00Z"},
	{ConflictFreeze, "d-api-2", "", "2026-03-30T10:00:00Z", "2026-03-30T10:30:00Z"},
	{ConflictFreeze, "p-batch-1", "", "2026-03-31T07:00:00Z", "2026-03-31T08:00:00Z"},
	{ConflictWindow, "d-api-3", "", "2026-04-01T22:00:00Z", "2026-04-01T22:30:00Z"},
	{ConflictDependency, "p-web-2", "p-api-3", "2026-04-06T08:30:00Z", "2026-04-06T09:00:00Z"},
}

func TestLoadConflicts(t *testing.T) {
	db := fixtureDB(t)
	cal, err := Load(context.Background(), db, testConfig(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Events) != 17 {
		for _, e := range cal.Events {
			t.Log(e.Key(), e.Start, e.End)
		}
		t.Errorf("events = %d; want 17", len(cal.Events))
	}
	for _, e := range cal.Events {
		switch e.ID {
		case "d-web-x", "d-db-stg", "cr-2":
			t.Errorf("event %s should be left out", e.ID)
		case "d-db-1":
			if e.Environment != "production" || !e.IsProduction {
				t.Errorf("d-db-1 environment %q: prod should read as production", e.Environment)
			}
		case "d-web-1":
			if !e.Start.Equal(ts("2026-03-26T09:00:00Z")) {
				t.Errorf("d-web-1 start %s; want 09:00Z (10:00+01:00)", e.Start)
			}
		}
	}
	got := conflictKeys(cal)
	if len(got) != len(wantConflicts) {
		t.Fatalf("conflicts:\n got %v\nwant %v", got, wantConflicts)
	}
	for i := range got {
		if got[i] != wantConflicts[i] {
			t.Errorf("conflict %d: got %v; want %v", i, got[i], wantConflicts[i])
		}
	}
}

func TestLoadRangeAndService(t *testing.T) {
	db := fixtureDB(t)
	// [03-26 09:00, 03-26 10:00): d-api-1 and p-api-1 end at 09:00 (touch,
	// left out); cr-1, d-web-1 and d-db-1 overlap it.
	cal, err := Load(context.Background(), db, testConfig(t), Options{From: ts("2026-03-26T09:00:00Z"), To: ts("2026-03-26T10:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range cal.Events {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "cr-1,d-web-1,d-db-1" {
		t.Errorf("events in range = %v; want cr-1, d-web-1, d-db-1", ids)
	}
	cal, err = Load(context.Background(), db, testConfig(t), Options{Services: []string{"batch"}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range cal.Conflicts {
		kinds = append(kinds, c.Kind+":"+c.Event.ID)
	}
	if strings.Join(kinds, ",") != "outside_window:d-batch-2,freeze:p-batch-1" {
		t.Errorf("batch conflicts = %v", kinds)
	}
}

func TestRules(t *testing.T) {
	cfg := config.Default()
	if err := config.Parse([]byte(`
calendar:
  time_zone: America/New_York
  release_windows:
    - days: [fri]
      start: "22:00"
      end: "02:00"
    - days: [sat]
      start: "00:00"
      end: "24:00"
      services: [batch]
    - days: [mon]
      start: "09:00"
      end: "12:00"
      time_zone: Asia/Kolkata
      services: [api]
  freezes:
    - start: "2026-11-01T00:00:00Z"
      end: "2026-11-02"
      services: [api]
`), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := NewRules(&cfg.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		services []string
		start    string
		end      string
		want     bool
	}{
		// New York: EDT (UTC-4) until Sunday 2026-11-01 02:00, EST (UTC-5) after.
		// Fri 2026-10-30 22:00 EDT = Sat 02:00Z; the window closes Sat 02:00 EDT = 06:00Z.
		{"crosses midnight", []string{"web"}, "2026-10-31T02:00:00Z", "2026-10-31T06:00:00Z", true},
		{"one minute early", []string{"web"}, "2026-10-31T01:59:00Z", "2026-10-31T02:30:00Z", false},
		{"past closing", []string{"web"}, "2026-10-31T05:30:00Z", "2026-10-31T06:01:00Z", false},
		// Fri 2026-11-06 22:00 EST = Sat 03:00Z: after the change the same
		// wall time is an hour later in UTC.
		{"after DST ends", []string{"web"}, "2026-11-07T03:00:00Z", "2026-11-07T04:00:00Z", true},
		{"after DST ends, EDT offset", []string{"web"}, "2026-11-07T02:00:00Z", "2026-11-07T03:00:00Z", false},
		// batch: Friday night joins Saturday's all-day window.
		{"joined windows", []string{"batch"}, "2026-10-31T03:00:00Z", "2026-10-31T12:00:00Z", true},
		// api: Mon 09:00-12:00 in Kolkata (UTC+5:30) = 03:30-06:30Z.
		{"other zone", []string{"api"}, "2026-11-02T03:30:00Z", "2026-11-02T06:30:00Z", true},
		{"other zone, late", []string{"api"}, "2026-11-02T06:00:00Z", "2026-11-02T07:00:00Z", false},
		{"instant at closing", []string{"api"}, "2026-11-02T06:30:00Z", "2026-11-02T06:30:00Z", true},
	} {
		if got := r.InWindow(tc.services, ts(tc.start), ts(tc.end)); got != tc.want {
			t.Errorf("%s: InWindow(%v, %s, %s) = %v; want %v", tc.name, tc.services, tc.start, tc.end, got, tc.want)
		}
	}
	// The freeze ends 2026-11-02 00:00 New York = 05:00Z (EST).
	for _, tc := range []struct {
		start, end string
		services   []string
		want       int
	}{
		{"2026-11-02T04:00:00Z", "2026-11-02T05:00:00Z", []string{"api"}, 1},
		{"2026-11-02T05:00:00Z", "2026-11-02T06:00:00Z", []string{"api"}, 0}, // touches the end
		{"2026-10-31T23:00:00Z", "2026-11-01T00:00:00Z", []string{"api"}, 0}, // touches the start
		{"2026-10-31T23:30:00Z", "2026-11-01T00:30:00Z", []string{"api"}, 1}, // freeze starts mid-window
		{"2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z", []string{"web"}, 0}, // not api
	} {
		if got := len(r.FreezesOverlapping(tc.services, ts(tc.start), ts(tc.end))); got != tc.want {
			t.Errorf("freezes over %s-%s %v = %d; want %d", tc.start, tc.end, tc.services, got, tc.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"calendar:\n  time_zone: Mars/Olympus\n", "calendar.time_zone: unknown time zone"},
		{"calendar:\n  release_windows:\n    - days: [funday]\n      start: \"09:00\"\n      end: \"10:00\"\n", "calendar.release_windows[0].days"},
		{"calendar:\n  release_windows:\n    - days: [mon]\n      start: \"9am\"\n      end: \"10:00\"\n", "calendar.release_windows[0].start"},
		{"calendar:\n  release_windows:\n    - days: [mon]\n      start: \"25:00\"\n      end: \"10:00\"\n", "calendar.release_windows[0].start"},
		{"calendar:\n  freezes:\n    - name: xmas\n      start: \"2026-12-24\"\n      end: \"2026-12-20\"\n", "calendar.freezes[0] (xmas): end"},
		{"calendar:\n  freezes:\n    - start: \"soon\"\n      end: \"2026-12-20\"\n", "calendar.freezes[0].start"},
	} {
		cfg := config.Default()
		err := config.Parse([]byte(tc.yaml), cfg)
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}

func TestSlips(t *testing.T) {
	db := fixtureDB(t)
	cfg := testConfig(t)
	f := SlipFilter{Now: ts("2026-04-10T00:00:00Z")}
	tab, err := Slips(context.Background(), db, cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	type slip struct {
		status      string
		slip, overd float64
		hasSlip     bool
		hasOver     bool
	}
	want := map[string]slip{
		"p-api-2":   {"late", 5.0625, 0, true, false},
		"p-api-1":   {"late", 1.0 / 24, 0, true, false},
		"p-batch-1": {"on_time", -23.5 / 24, 0, true, false},
		"p-web-2":   {"late", (23 + 40.0/60) / 24, 0, true, false},
		"p-api-3":   {"missed", 0, 3 + 15.5/24, false, true},
		"p-db-9":    {"planned", 0, 0, false, false},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("slips rows = %d; want %d: %v", len(tab.Rows), len(want), tab.Rows)
	}
	col := index(tab.Columns)
	for _, r := range tab.Rows {
		id := r[col["plan_id"]].(string)
		w, ok := want[id]
		if !ok {
			t.Errorf("unexpected plan %s", id)
			continue
		}
		if r[col["status"]] != w.status {
			t.Errorf("%s status %v; want %s", id, r[col["status"]], w.status)
		}
		checkFloat(t, id+" slip_days", r[col["slip_days"]], w.slip, w.hasSlip)
		checkFloat(t, id+" days_overdue", r[col["days_overdue"]], w.overd, w.hasOver)
	}

	sum, err := SlipSummary(context.Background(), db, cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	col = index(sum.Columns)
	got := map[string][]any{}
	for _, r := range sum.Rows {
		got[r[col["team"]].(string)] = r
	}
	for team, w := range map[string]struct {
		plans, shipped, missed int64
		median, p90, share     float64
	}{
		"core": {4, 2, 1, (1.0/24 + 5.0625) / 2, 1.0/24 + 0.9*(5.0625-1.0/24), 0},
		"data": {1, 1, 0, -23.5 / 24, -23.5 / 24, 1},
		"web":  {1, 1, 0, (23 + 40.0/60) / 24, (23 + 40.0/60) / 24, 0},
	} {
		r := got[team]
		if r == nil {
			t.Errorf("no summary for team %s", team)
			continue
		}
		if r[col["plans"]] != w.plans || r[col["shipped"]] != w.shipped || r[col["missed"]] != w.missed {
			t.Errorf("%s counts plans %v shipped %v missed %v; want %d %d %d", team, r[col["plans"]], r[col["shipped"]], r[col["missed"]], w.plans, w.shipped, w.missed)
		}
		checkFloat(t, team+" median", r[col["slip_median_days"]], w.median, true)
		checkFloat(t, team+" p90", r[col["slip_p90_days"]], w.p90, true)
		checkFloat(t, team+" on_time_share", r[col["on_time_share"]], w.share, true)
	}
}

func index(cols []string) map[string]int {
	m := map[string]int{}
	for i, c := range cols {
		m[c] = i
	}
	return m
}

func checkFloat(t *testing.T, what string, v any, want float64, present bool) {
	t.Helper()
	if !present {
		if v != nil {
			t.Errorf("%s = %v; want NULL", what, v)
		}
		return
	}
	f, ok := v.(float64)
	if !ok {
		t.Errorf("%s = %v (%T); want %v", what, v, v, want)
		return
	}
	if d := f - want; d > 1e-9 || d < -1e-9 {
		t.Errorf("%s = %v; want %v", what, f, want)
	}
}

// TestNamedQueries runs the SQL files in queries/retro against the fixture:
// release-conflicts must agree with the Go environment and dependency
// conflicts, release-slips with Slips.
func TestNamedQueries(t *testing.T) {
	db := fixtureDB(t)
	body, err := os.ReadFile("../queries/retro/release-conflicts.sql")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(string(body), sql.Named("from", ts("1970-01-01T00:00:00Z")), sql.Named("to", ts("9999-12-31T00:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	var got []wantConflict
	for rows.Next() {
		var w wantConflict
		var start, end time.Time
		rest := make([]any, 7)
		dest := []any{&w.kind, &w.event, &w.other, &start, &end}
		for i := range rest {
			dest = append(dest, &rest[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		w.start, w.end = start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
		got = append(got, w)
	}
	rows.Close()
	var want []wantConflict
	for _, w := range wantConflicts {
		if w.kind == ConflictEnvironment || w.kind == ConflictDependency {
			want = append(want, w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("release-conflicts:\n got %v\nwant %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("release-conflicts row %d: got %v; want %v", i, got[i], want[i])
		}
	}
	// A range that only touches the dependency conflict's plans finds nothing there.
	rows, err = db.Query(string(body), sql.Named("from", ts("2026-04-06T09:30:00Z")), sql.Named("to", ts("2026-05-01T00:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 0 {
		t.Errorf("release-conflicts from 04-06 09:30: %d rows; want 0", n)
	}

	body, err = os.ReadFile("../queries/retro/release-slips.sql")
	if err != nil {
		t.Fatal(err)
	}
	rows, err = db.Query(string(body), sql.Named("from", ts("1970-01-01T00:00:00Z")), sql.Named("to", ts("9999-12-31T00:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]string{}
	for rows.Next() {
		var id, status string
		var slipDays sql.NullFloat64
		if err := rows.Scan(&id, new(string), new(sql.NullString), new(string), new(time.Time), new(sql.NullTime), &slipDays, &status, new(sql.NullFloat64)); err != nil {
			t.Fatal(err)
		}
		statuses[id] = status
		if id == "p-api-2" && (!slipDays.Valid || slipDays.Float64 != 5.0625) {
			t.Errorf("release-slips p-api-2 slip %v; want 5.0625", slipDays)
		}
	}
	rows.Close()
	// The named query uses the current time: p-db-9 (2026-05-04) may be
	// planned or missed depending on when the test runs; the others are fixed.
	for id, want := range map[string]string{"p-api-2": "late", "p-api-1": "late", "p-batch-1": "on_time", "p-web-2": "late", "p-api-3": "missed"} {
		if statuses[id] != want {
			t.Errorf("release-slips %s = %q; want %q", id, statuses[id], want)
		}
	}
	if len(statuses) != 6 {
		t.Errorf("release-slips rows = %d; want 6", len(statuses))
	}
}

// TestICS writes the calendar as iCalendar and reads it back with a small
// parser: CRLF endings, lines of at most 75 octets, unfolding and
// unescaping give back the original text.
func TestICS(t *testing.T) {
	db := fixtureDB(t)
	cal, err := Load(context.Background(), db, testConfig(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteICS(&buf, cal, ts("2026-04-10T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if !strings.HasSuffix(raw, "\r\n") {
		t.Error("output does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n")
	folded := 0
	for i, l := range physical {
		if strings.Contains(l, "\n") || strings.Contains(l, "\r") {
			t.Fatalf("line %d has a bare LF or CR: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if strings.HasPrefix(l, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Error("no folded line: the long change request title should fold")
	}
	events := parseICS(t, raw)
	if len(events) != 17 {
		t.Fatalf("VEVENTs = %d; want 17", len(events))
	}
	byUID := map[string]map[string]string{}
	for _, e := range events {
		for _, p := range []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} {
			if e[p] == "" {
				t.Errorf("event %v lacks %s", e, p)
			}
		}
		byUID[e["UID"]] = e
	}
	cr := byUID["change_request:cr-1@shiplog"]
	if cr == nil {
		t.Fatalf("no event for cr-1; UIDs %v", byUID)
	}
	title := "Migrate db; step 1, part \\ \"a\"\nthen verify — naïve über-long title that has to be folded past seventy-five octets"
	if want := "Change cr-1: db — " + title + " [production]"; cr["SUMMARY"] != want {
		t.Errorf("cr-1 SUMMARY unescaped:\n got %q\nwant %q", cr["SUMMARY"], want)
	}
	if cr["DTSTART"] != "20260326T090000Z" || cr["DTEND"] != "20260326T110000Z" {
		t.Errorf("cr-1 DTSTART/DTEND = %s/%s", cr["DTSTART"], cr["DTEND"])
	}
	if !strings.Contains(cr["DESCRIPTION"], "environment: cr-1") && !strings.Contains(cr["DESCRIPTION"], "Conflicts:\nenvironment: ") {
		t.Errorf("cr-1 DESCRIPTION lacks its conflict: %q", cr["DESCRIPTION"])
	}
	if cr["CATEGORIES"] != "change_request,production,conflict,environment" {
		t.Errorf("cr-1 CATEGORIES = %q", cr["CATEGORIES"])
	}
	b := byUID["deployment:d-batch-1@shiplog"]
	if b["DTSTART"] != "20260330T070000Z" || b["DTEND"] != "20260330T073000Z" || b["DTSTAMP"] != "20260410T000000Z" {
		t.Errorf("d-batch-1 times %s %s %s", b["DTSTART"], b["DTEND"], b["DTSTAMP"])
	}
	if b["CATEGORIES"] != "deployment,production" {
		t.Errorf("d-batch-1 has no conflict; CATEGORIES = %q", b["CATEGORIES"])
	}
}

// parseICS unfolds content lines (CRLF followed by a space or tab is
// removed), splits name and value at the first colon outside a parameter
// and unescapes TEXT values.
func parseICS(t *testing.T, raw string) []map[string]string {
	t.Helper()
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n\t", "").Replace(raw)
	var events []map[string]string
	var cur map[string]string
	for _, l := range strings.Split(strings.TrimSuffix(unfolded, "\r\n"), "\r\n") {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("content line without a colon: %q", l)
		}
		switch {
		case l == "BEGIN:VEVENT":
			cur = map[string]string{}
		case l == "END:VEVENT":
			events = append(events, cur)
			cur = nil
		case cur != nil:
			cur[name] = unescapeText(value)
		}
	}
	return events
}

func unescapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
