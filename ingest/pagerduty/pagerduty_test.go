package pagerduty_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/pagerduty"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The expected rows are worked out by hand from testdata/ (see
// testdata/README.md). Columns: id, service, severity, title, opened,
// acknowledged, resolved, then extra's status, urgency, priority, url and
// incident number. Times are UTC.
var wantDefault = []string{
	"PL0W9AA|checkout|sev2|Disk almost full on db-3|2026-03-05 22:00:00|NULL|NULL|triggered|high|NULL|https://acme.pagerduty.com/incidents/PL0W9AA|1237",
	"PQ7R2BN|payments|sev4|Payment webhooks delayed|2026-03-03 14:00:00|2026-03-03 14:10:00|NULL|acknowledged|low|NULL|https://acme.pagerduty.com/incidents/PQ7R2BN|1235",
	"PT4KHLK|checkout|sev2|Checkout returns 502 for card payments|2026-03-02 09:00:00|2026-03-02 09:04:30|2026-03-02 10:15:00|resolved|high|P2|https://acme.pagerduty.com/incidents/PT4KHLK|1234",
	"PX3M9KD|search backend|sev3|Search latency above 2 s|2026-03-04 08:30:00|2026-03-04 08:41:00|2026-03-04 09:45:00|resolved|high|P3|https://acme.pagerduty.com/incidents/PX3M9KD|1236",
	"PZZ5P5Q|search backend|sev4|Nightly report job failed|2026-03-06 01:00:00|NULL|2026-03-06 07:30:00|resolved|low|P5|https://acme.pagerduty.com/incidents/PZZ5P5Q|1238",
}

// With severity {P3: sev2, high: sev1}: a priority key wins over an urgency
// key, an urgency key over the built-in priority rule.
var wantCustomSeverity = []string{"PL0W9AA|sev1", "PQ7R2BN|sev4", "PT4KHLK|sev1", "PX3M9KD|sev2", "PZZ5P5Q|sev4"}

var fixedNow = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

type harness struct {
	db     *warehouse.DB
	fake   *fakePagerDuty
	src    *pagerduty.Source
	cfg    *pagerduty.Config
	mu     sync.Mutex
	sleeps []time.Duration
	log    bytes.Buffer
}

func testConfig(apiURL string) *pagerduty.Config {
	return &pagerduty.Config{
		APIURL:   apiURL,
		Services: map[string]string{"PIJ90N7": "checkout", "payments api": "payments"},
		Since:    "2026-03-01",
		PageSize: 2,
	}
}

func newHarness(t testing.TB, mutate func(*pagerduty.Config), opts ...pagerduty.Option) *harness {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{db: db, fake: newFake(t)}
	h.cfg = testConfig(h.fake.srv.URL)
	if mutate != nil {
		mutate(h.cfg)
	}
	h.build(t, opts...)
	return h
}

func (h *harness) build(t testing.TB, opts ...pagerduty.Option) {
	t.Helper()
	getenv := func(k string) string {
		if k == "PAGERDUTY_TOKEN" {
			return testToken
		}
		return ""
	}
	all := append([]pagerduty.Option{
		pagerduty.WithClock(func() time.Time { return fixedNow }),
		pagerduty.WithBackoff(ingest.Backoff{Base: time.Second, Max: 4 * time.Second, Attempts: 3}),
		pagerduty.WithSleep(func(_ context.Context, d time.Duration) error {
			h.mu.Lock() // log entries are read by several workers
			defer h.mu.Unlock()
			h.sleeps = append(h.sleeps, d)
			return nil
		}),
	}, opts...)
	var err error
	if h.src, err = pagerduty.New(h.cfg, getenv, all...); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) sync(t testing.TB) (*ingest.RunRecord, error) {
	t.Helper()
	run := &ingest.RunRecord{Source: pagerduty.Name}
	now := func() time.Time { return fixedNow }
	return run, h.src.Sync(context.Background(), &ingest.Env{DB: h.db, Run: run, Progress: &h.log, Now: now,
		State: &ingest.State{DB: h.db, Source: pagerduty.Name, Now: now}})
}

func rows(t testing.TB, db *warehouse.DB, query string) []string {
	t.Helper()
	r, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out []string
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ts(col string) string {
	return fmt.Sprintf("strftime(timezone('UTC', %s), '%%Y-%%m-%%d %%H:%%M:%%S')", col)
}

func incidentRows(t testing.TB, db *warehouse.DB) []string {
	return rows(t, db, `SELECT id, service, severity, title, `+ts("opened_at")+`, `+ts("acknowledged_at")+`, `+ts("resolved_at")+`,
		extra->>'status', extra->>'urgency', extra->>'priority', extra->>'url', extra->>'incident_number'
		FROM incidents WHERE source = 'pagerduty' ORDER BY id`)
}

// dump is every raw and canonical row of the source, for comparing runs.
func dump(t testing.TB, db *warehouse.DB) string {
	return strings.Join(rows(t, db, `SELECT * FROM raw_pagerduty_incidents ORDER BY id`), "\n") + "\n" +
		strings.Join(rows(t, db, `SELECT * FROM raw_pagerduty_log_entries ORDER BY incident_id, id`), "\n") + "\n" +
		strings.Join(rows(t, db, `SELECT * FROM incidents WHERE source = 'pagerduty' ORDER BY id`), "\n")
}

func check(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func count(paths []string, prefix string) int {
	n := 0
	for _, p := range paths {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

func TestSyncMapsEveryField(t *testing.T) {
	h := newHarness(t, nil)
	run, err := h.sync(t)
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, h.log.String())
	}
	check(t, "incidents", incidentRows(t, h.db), wantDefault)

	paths := h.fake.paths()
	// Page size 2: 5 incidents → 3 pages (more: true, true, false); one
	// log entries request per incident.
	if n := count(paths, "/incidents?"); n != 3 {
		t.Errorf("%d /incidents requests, want 3:\n%s", n, strings.Join(paths, "\n"))
	}
	for _, id := range []string{"PT4KHLK", "PQ7R2BN", "PX3M9KD", "PL0W9AA", "PZZ5P5Q"} {
		if n := count(paths, "/incidents/"+id+"/log_entries?"); n != 1 {
			t.Errorf("%d log entry requests for %s, want 1", n, id)
		}
	}
	first := paths[0]
	for _, want := range []string{"since=2026-03-01T00:00:00Z", "until=2026-03-10T00:00:00Z", "limit=2", "offset=0",
		"statuses[]=triggered&statuses[]=acknowledged&statuses[]=resolved", "include[]=priorities", "time_zone=UTC", "sort_by=created_at:asc"} {
		if !strings.Contains(first, want) {
			t.Errorf("first request %q lacks %q", first, want)
		}
	}
	// 5 incidents and 6+2+3+1+2 = 14 log entries.
	if run.Read != 19 || run.Written != 19 {
		t.Errorf("run read/written %d/%d, want 19/19", run.Read, run.Written)
	}
	check(t, "raw counts", rows(t, h.db, `SELECT (SELECT count(*) FROM raw_pagerduty_incidents), (SELECT count(*) FROM raw_pagerduty_log_entries)`), []string{"5|14"})
	// Assignees stay in the raw data.
	check(t, "assignees in raw", rows(t, h.db, `SELECT payload->'assignments'->0->'assignee'->>'summary' FROM raw_pagerduty_incidents WHERE id = 'PQ7R2BN'`), []string{"Bo Chen"})
	// The cursor: the oldest incident not resolved, PQ7R2BN (14:00).
	if run.Cursor != "2026-03-03T14:00:00Z" {
		t.Errorf("cursor %q, want 2026-03-03T14:00:00Z", run.Cursor)
	}
}

func TestSeverityMap(t *testing.T) {
	h := newHarness(t, func(c *pagerduty.Config) { c.Severity = map[string]string{"P3": "sev2", "HIGH": "sev1"} })
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	check(t, "severities", rows(t, h.db, `SELECT id, severity FROM incidents WHERE source = 'pagerduty' ORDER BY id`), wantCustomSeverity)

	// Map alone re-runs the rule without any request: drop the map.
	h.fake.reset()
	h.cfg.Severity = nil
	h.build(t)
	if err := h.src.Map(context.Background(), h.db); err != nil {
		t.Fatal(err)
	}
	check(t, "incidents after remapping", incidentRows(t, h.db), wantDefault)
	if n := len(h.fake.paths()); n != 0 {
		t.Errorf("Map sent %d requests", n)
	}
}

func TestLogEntryPaging(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.logPage = 2
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	// PT4KHLK has 6 entries: 3 pages of 2.
	if n := count(h.fake.paths(), "/incidents/PT4KHLK/log_entries?"); n != 3 {
		t.Errorf("%d log entry requests for PT4KHLK, want 3", n)
	}
	check(t, "incidents", incidentRows(t, h.db), wantDefault)
}

func TestIncrementalSync(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	before := dump(t, h.db)

	// Second run: from the cursor less the 10-minute overlap; no incident
	// changed, so no log entries are read and nothing changes.
	h.fake.reset()
	run, err := h.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	paths := h.fake.paths()
	if !strings.Contains(paths[0], "since=2026-03-03T13:50:00Z") {
		t.Errorf("second run asked %q, want since=2026-03-03T13:50:00Z", paths[0])
	}
	if n := count(paths, "/incidents/"); n != 0 {
		t.Errorf("unchanged incidents: %d log entry requests, want 0", n)
	}
	// PQ7R2BN, PX3M9KD, PL0W9AA, PZZ5P5Q are created after 13:50.
	if run.Read != 4 {
		t.Errorf("second run read %d, want 4", run.Read)
	}
	if after := dump(t, h.db); after != before {
		t.Errorf("a re-run changed the warehouse:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// PQ7R2BN is resolved on 9 March: only its log entries are read.
	h.fake.set("PQ7R2BN", map[string]any{"status": "resolved", "updated_at": "2026-03-09T08:00:00Z",
		"last_status_change_at": "2026-03-09T08:00:00Z", "resolved_at": "2026-03-09T08:00:00Z", "acknowledgements": []any{}, "assignments": []any{}})
	h.fake.addLog("PQ7R2BN", map[string]any{"id": "RQ7R2BNR", "type": "resolve_log_entry", "created_at": "2026-03-09T08:00:00Z",
		"summary": "Resolved by Bo Chen.", "incident": map[string]any{"id": "PQ7R2BN", "type": "incident_reference"}})
	h.fake.reset()
	run, err = h.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	paths = h.fake.paths()
	if n, m := count(paths, "/incidents/PQ7R2BN/log_entries?"), count(paths, "/incidents/"); n != 1 || m != 1 {
		t.Errorf("log entry requests: %d for PQ7R2BN, %d in all; want 1 and 1", n, m)
	}
	check(t, "PQ7R2BN", rows(t, h.db, `SELECT id, `+ts("acknowledged_at")+`, `+ts("resolved_at")+`, extra->>'status' FROM incidents WHERE id = 'PQ7R2BN'`),
		[]string{"PQ7R2BN|2026-03-03 14:10:00|2026-03-09 08:00:00|resolved"})
	// Now the oldest open incident is PL0W9AA.
	if run.Cursor != "2026-03-05T22:00:00Z" {
		t.Errorf("cursor %q, want 2026-03-05T22:00:00Z", run.Cursor)
	}
}

func TestWindowsOfAtMostSixMonths(t *testing.T) {
	h := newHarness(t, nil, pagerduty.WithWindow(48*time.Hour))
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	// 1 to 10 March in windows of 2 days: 03-01, 03-03, 03-05, 03-07, 03-09
	// (the last one ends at now); each holds at most 2 incidents: 1 page.
	var since []string
	for _, p := range h.fake.paths() {
		if strings.HasPrefix(p, "/incidents?") {
			i := strings.Index(p, "since=")
			since = append(since, p[i+6:i+16])
		}
	}
	check(t, "windows", since, []string{"2026-03-01", "2026-03-03", "2026-03-05", "2026-03-07", "2026-03-09"})
	check(t, "incidents", incidentRows(t, h.db), wantDefault)
}

func TestOffsetLimitReadsOnFromLastCreation(t *testing.T) {
	defer pagerduty.SetMaxOffset(4)()
	h := newHarness(t, nil)
	run, err := h.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range h.fake.paths() {
		if strings.HasPrefix(p, "/incidents?") {
			i := strings.Index(p, "since=")
			j := strings.Index(p, "offset=")
			got = append(got, p[i+6:i+26]+" "+strings.SplitN(p[j:], "&", 2)[0])
		}
	}
	// Pages at offsets 0 and 2 fill offset 4 (the cap in this test): the
	// read goes on from PL0W9AA's creation time, which it reads again.
	check(t, "pages", got, []string{"2026-03-01T00:00:00Z offset=0", "2026-03-01T00:00:00Z offset=2", "2026-03-05T22:00:00Z offset=0"})
	if run.Read-14 != 6 {
		t.Errorf("incidents read %d, want 6 (one twice)", run.Read-14)
	}
	check(t, "incidents", incidentRows(t, h.db), wantDefault)
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fail       func(n int, w http.ResponseWriter, r *http.Request) bool
		token      string
		noToken    bool
		badPayload bool
		wantErr    []string
		wantSleeps []time.Duration // exact, for rate limits
		minSleeps  int
	}{
		{name: "rate limit honoured", fail: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				w.Header().Set("ratelimit-limit", "960")
				w.Header().Set("ratelimit-remaining", "0")
				w.Header().Set("ratelimit-reset", "7")
				pdError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
				return true
			}
			return false
		}, wantSleeps: []time.Duration{8 * time.Second}},
		{name: "5xx retried", fail: func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 2 || n == 3 {
				pdError(w, http.StatusBadGateway, 0, "Bad Gateway")
				return true
			}
			return false
		}, minSleeps: 2},
		{name: "5xx gives up", fail: func(n int, w http.ResponseWriter, r *http.Request) bool {
			pdError(w, http.StatusServiceUnavailable, 0, "Service Unavailable")
			return true
		}, wantErr: []string{"pagerduty:", "/incidents answered 503 Service Unavailable after 3 attempts"}, minSleeps: 2},
		{name: "401 names the variable, never the token", token: "wrong-token-1234",
			wantErr: []string{"401 Unauthorized", "$PAGERDUTY_TOKEN", "Authentication failed", "[redacted]"}},
		{name: "403", fail: func(n int, w http.ResponseWriter, r *http.Request) bool {
			pdError(w, http.StatusForbidden, 2010, "Access Denied")
			return true
		}, wantErr: []string{"403 Forbidden", "$PAGERDUTY_TOKEN", "may not read incidents", "Access Denied"}},
		{name: "no token", noToken: true, wantErr: []string{"$NO_SUCH_VARIABLE is empty", "REST API key"}},
		{name: "bad payload named", badPayload: true,
			wantErr: []string{"incident 1", "PT4KHLK", `created_at "yesterday" is not an RFC 3339 time`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.fake.setFail(tc.fail)
			if tc.token != "" {
				h.fake.token = "the-right-token"
				// The source sends testToken; the fake wants another and
				// echoes what it got, as some servers do.
			}
			if tc.noToken {
				h.cfg.TokenEnv = "NO_SUCH_VARIABLE"
				h.build(t)
			}
			if tc.badPayload {
				h.fake.set("PT4KHLK", map[string]any{"created_at": "yesterday"})
			}
			_, err := h.sync(t)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				check(t, "incidents", incidentRows(t, h.db), wantDefault)
			} else {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), testToken) || strings.Contains(h.log.String(), testToken) {
					t.Errorf("the token leaked: %v", err)
				}
				// Nothing of a failed first page is written, and no cursor.
				check(t, "raw incidents", rows(t, h.db, `SELECT count(*) FROM raw_pagerduty_incidents`), []string{"0"})
				check(t, "cursor", rows(t, h.db, `SELECT count(*) FROM source_state WHERE source = 'pagerduty'`), []string{"0"})
			}
			if tc.wantSleeps != nil {
				check(t, "sleeps", []string{fmt.Sprint(h.sleeps)}, []string{fmt.Sprint(tc.wantSleeps)})
			}
			if len(h.sleeps) < tc.minSleeps {
				t.Errorf("%d sleeps, want at least %d", len(h.sleeps), tc.minSleeps)
			}
		})
	}
}

// TestResumeAfterFailure stops a run at every request number with an
// answer that is not retried, then runs again: the warehouse must equal the
// one an uninterrupted run builds.
func TestResumeAfterFailure(t *testing.T) {
	ref := newHarness(t, nil)
	if _, err := ref.sync(t); err != nil {
		t.Fatal(err)
	}
	want := dump(t, ref.db)
	total := len(ref.fake.paths())
	for stop := 1; stop <= total; stop++ {
		t.Run(fmt.Sprint(stop), func(t *testing.T) {
			h := newHarness(t, nil)
			h.fake.setFail(func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n >= stop {
					pdError(w, http.StatusUnauthorized, 2006, "Authentication failed")
					return true
				}
				return false
			})
			if _, err := h.sync(t); err == nil {
				t.Fatal("interrupted run did not fail")
			}
			h.fake.setFail(nil)
			if _, err := h.sync(t); err != nil {
				t.Fatal(err)
			}
			if got := dump(t, h.db); got != want {
				t.Errorf("resumed warehouse differs:\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestTokenOnlyToItsOrigin: a redirect to another host is followed without
// the credential.
func TestTokenOnlyToItsOrigin(t *testing.T) {
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			leaked = append(leaked, a)
		}
		writeJSON(w, map[string]any{"incidents": []any{}, "more": false})
	}))
	defer other.Close()
	h := newHarness(t, nil)
	h.fake.setFail(func(n int, w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, other.URL+r.URL.Path+"?"+r.URL.RawQuery, http.StatusFound)
		return true
	})
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	if len(leaked) > 0 {
		t.Errorf("the other host received %v", leaked)
	}
}
