package github

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The fixtures in testdata/api are described, with the expected canonical
// rows worked out by hand, in testdata/README.md.

const testToken = "ghp_TESTtoken0123456789abcdefABCDEF"

var fixedNow = time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC)

// fsha is the fixture generator's sha: sha1 of a short tag, in hex.
func fsha(tag string) string {
	s := sha1.Sum([]byte(tag))
	return hex.EncodeToString(s[:])
}

func testConfig(apiURL string) *config.GitHub {
	return &config.GitHub{
		APIURL:                apiURL,
		Repos:                 []string{"acme/payments", "acme/web"},
		Services:              map[string][]string{"acme/web": {"web", "web-admin"}},
		Deployments:           config.GitHubDeployments{ProductionEnvironments: []string{"production", "prod"}},
		ReleasesAsDeployments: []string{"acme/web"},
		DeployWorkflows:       []string{"Deploy"},
	}
}

// sleeps records the waits asked for, and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

type harness struct {
	t      *testing.T
	fake   *fakeGitHub
	db     *warehouse.DB
	sleeps *sleeps
	log    *bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The service catalogue (from another source) gives the monorepo's paths.
	if _, err := db.ExecContext(ctx, `INSERT INTO services (id, name, team, repo, paths, source) VALUES
		('web', 'Web', 'frontend', 'acme/web', ['web/**'], 'file'),
		('web-admin', 'Web admin', 'frontend', 'acme/web', ['admin/**'], 'file'),
		('payments', 'Payments', 'money', 'acme/payments', NULL, 'file')`); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, fake: newFakeGitHub(t), db: db, sleeps: &sleeps{}, log: &bytes.Buffer{}}
}

func (h *harness) source(cfg *config.GitHub, opts ...Option) *Source {
	h.t.Helper()
	if cfg == nil {
		cfg = testConfig(h.fake.srv.URL)
	}
	base := []Option{
		WithPerPage(2),
		WithClock(func() time.Time { return fixedNow }),
		WithSleep(h.sleeps.sleep),
		WithBackoff(ingest.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond, Attempts: 3}),
		WithProgress(h.log),
	}
	s, err := New(cfg, func(k string) string {
		if k == "GITHUB_TOKEN" {
			return testToken
		}
		return ""
	}, append(base, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) sync(ctx context.Context, s *Source) error {
	return s.Sync(ctx, &ingest.Env{
		DB:       h.db,
		State:    &ingest.State{DB: h.db, Source: Name, Now: func() time.Time { return fixedNow }},
		Progress: h.log,
		Now:      func() time.Time { return fixedNow },
	})
}

func (h *harness) mustSync(s *Source) {
	h.t.Helper()
	if err := h.sync(context.Background(), s); err != nil {
		h.t.Fatalf("sync: %v\nprogress:\n%s", err, h.log)
	}
}

// dump renders everything the source owns (raw rows without fetched_at,
// canonical rows, state values) as text, to compare runs.
func (h *harness) dump() string {
	h.t.Helper()
	queries := []string{
		`SELECT repo, number, updated_at, payload FROM raw_github_pulls ORDER BY ALL`,
		`SELECT repo, number, position, sha, payload FROM raw_github_pull_commits ORDER BY ALL`,
		`SELECT repo, number, filename, payload FROM raw_github_pull_files ORDER BY ALL`,
		`SELECT repo, number, id, payload FROM raw_github_reviews ORDER BY ALL`,
		`SELECT repo, id, created_at, payload FROM raw_github_deployments ORDER BY ALL`,
		`SELECT repo, deployment_id, id, payload FROM raw_github_deployment_statuses ORDER BY ALL`,
		`SELECT repo, id, payload FROM raw_github_releases ORDER BY ALL`,
		`SELECT repo, id, workflow_id, payload FROM raw_github_workflow_runs ORDER BY ALL`,
		`SELECT * FROM deployments WHERE source = 'github' ORDER BY id`,
		`SELECT * FROM changes WHERE source = 'github' ORDER BY id`,
		`SELECT * FROM commits WHERE source = 'github' ORDER BY repo, sha`,
		`SELECT scope, key, value FROM source_state WHERE source = 'github' ORDER BY ALL`,
	}
	var b strings.Builder
	for _, q := range queries {
		fmt.Fprintf(&b, "-- %s\n", q)
		rows, err := h.db.Query(q)
		if err != nil {
			h.t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				h.t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// rows returns a query's rows as text cells ("NULL" for nulls).
func (h *harness) rows(q string) [][]string {
	h.t.Helper()
	rows, err := h.db.Query(q)
	if err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			h.t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out
}

func ts(col string) string {
	return fmt.Sprintf(`strftime(%s AT TIME ZONE 'UTC', '%%Y-%%m-%%dT%%H:%%M:%%SZ')`, col)
}

func TestFirstSyncMapsFixtures(t *testing.T) {
	h := newHarness(t)
	s := h.source(nil)
	h.mustSync(s)

	t.Run("deployments", func(t *testing.T) {
		got := h.rows(`SELECT id, service, environment, ` + ts("finished_at") + `, ` + ts("started_at") + `, status,
			coalesce(version, 'NULL'), coalesce(commit_sha, 'NULL'), coalesce(triggered_by, 'NULL'), coalesce(url, 'NULL'),
			coalesce(extra->>'$.github_environment', 'NULL')
			FROM deployments WHERE source = 'github' ORDER BY id`)
		want := [][]string{
			{"acme/payments/deployments/200", "payments", "production", "2024-03-01T08:06:00Z", "2024-03-01T08:00:00Z", "success", "NULL", fsha("d200"), "alice", "NULL", "prod"},
			{"acme/payments/deployments/201", "payments", "production", "2024-03-02T16:10:00Z", "2024-03-02T16:00:00Z", "success", "v1.4.0", fsha("d201"), "deploy-bot[bot]", "https://ci.example.com/deploy/201/log", "NULL"},
			{"acme/payments/deployments/202", "payments", "staging", "2024-03-03T09:03:00Z", "2024-03-03T09:00:00Z", "failure", "v1.5.0-rc1", fsha("d202"), "bob", "https://ci.example.com/deploy/202/log", "NULL"},
			{"acme/payments/deployments/203", "payments", "production", "2024-03-05T09:05:00Z", "2024-03-05T09:00:00Z", "success", "v1.5.0", fsha("d203"), "alice", "https://ci.example.com/deploy/203/log", "NULL"},
			{"acme/web/actions/runs/8001", "web", "production", "2024-03-04T12:15:00Z", "2024-03-04T12:05:03Z", "success", "NULL", fsha("w5merge"), "erin", "https://github.com/acme/web/actions/runs/8001", "NULL"},
			{"acme/web/actions/runs/8002", "web", "production", "2024-03-05T10:07:00Z", "2024-03-05T10:00:05Z", "failure", "NULL", fsha("w5fix"), "erin", "https://github.com/acme/web/actions/runs/8002", "NULL"},
			{"acme/web@v2.0.0", "web", "production", "2024-03-04T12:00:00Z", "2024-03-04T11:00:00Z", "success", "v2.0.0", fsha("w5merge"), "erin", "https://github.com/acme/web/releases/tag/v2.0.0", "NULL"},
		}
		compareRows(t, got, want)
	})

	t.Run("changes", func(t *testing.T) {
		got := h.rows(`SELECT id, service, repo, title, author, CAST(commit_shas AS VARCHAR), coalesce(merge_commit_sha, 'NULL'),
			` + ts("first_commit_at") + `, ` + ts("opened_at") + `, coalesce(` + ts("first_review_at") + `, 'NULL'),
			coalesce(` + ts("approved_at") + `, 'NULL'), coalesce(` + ts("merged_at") + `, 'NULL'),
			CAST(reviewers AS VARCHAR), approvals, is_revert, CAST(labels AS VARCHAR)
			FROM changes WHERE source = 'github' ORDER BY id`)
		l := func(tags ...string) string {
			var s []string
			for _, t := range tags {
				s = append(s, fsha(t))
			}
			return "[" + strings.Join(s, ", ") + "]"
		}
		want := [][]string{
			{"acme/payments#10", "payments", "acme/payments", "Add refund endpoint", "alice", l("c10a", "c10b"), fsha("acme/payments#10:merge"),
				"2024-02-28T16:00:00Z", "2024-03-01T10:00:00Z", "2024-03-01T13:00:00Z", "2024-03-02T10:00:00Z", "2024-03-02T15:00:00Z",
				"[bob, carol, dave]", "2", "false", "[feature, api]"},
			{"acme/payments#11", "payments", "acme/payments", "Try a new ledger format", "bob", l("c11a"), "NULL",
				"2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z", "2024-03-05T11:00:00Z", "NULL", "NULL",
				"[carol]", "0", "false", "[]"},
			{"acme/payments#12", "payments", "acme/payments", "Add webhook retries", "alice", l("c12a"), "NULL",
				"2024-03-06T08:30:00Z", "2024-03-06T09:00:00Z", "NULL", "NULL", "NULL",
				"[]", "0", "false", "[]"},
			{"acme/payments#9", "payments", "acme/payments", `Revert "Add retry"`, "bob", l("c9a"), fsha("acme/payments#9:merge"),
				"2024-02-20T09:50:00Z", "2024-02-20T10:00:00Z", "2024-02-20T11:00:00Z", "2024-02-20T11:00:00Z", "2024-02-20T12:00:00Z",
				"[carol]", "1", "true", "[]"},
			{"acme/web#3", "web", "acme/web", "Update README", "frank", l("w3a"), "NULL",
				"2024-03-01T09:00:00Z", "2024-03-01T10:00:00Z", "NULL", "NULL", "NULL",
				"[]", "0", "false", "[]"},
			{"acme/web#4", "web-admin", "acme/web", "Admin: list users", "erin", l("w4a"), fsha("acme/web#4:merge"),
				"2024-03-02T09:00:00Z", "2024-03-02T10:00:00Z", "NULL", "NULL", "2024-03-02T18:00:00Z",
				"[]", "0", "false", "[]"},
			{"acme/web#5:web", "web", "acme/web", "Share session handling", "erin", l("w5a"), fsha("acme/web#5:merge"),
				"2024-03-03T08:00:00Z", "2024-03-03T10:00:00Z", "2024-03-03T15:00:00Z", "2024-03-03T15:00:00Z", "2024-03-04T10:00:00Z",
				"[frank]", "1", "false", "[]"},
			{"acme/web#5:web-admin", "web-admin", "acme/web", "Share session handling", "erin", l("w5a"), fsha("acme/web#5:merge"),
				"2024-03-03T08:00:00Z", "2024-03-03T10:00:00Z", "2024-03-03T15:00:00Z", "2024-03-03T15:00:00Z", "2024-03-04T10:00:00Z",
				"[frank]", "1", "false", "[]"},
		}
		compareRows(t, got, want)
	})

	t.Run("commits", func(t *testing.T) {
		got := h.rows(`SELECT repo, sha, CAST(parents AS VARCHAR), ` + ts("authored_at") + `, ` + ts("committed_at") + `, author
			FROM commits WHERE source = 'github' AND sha IN ('` + fsha("c10a") + `', '` + fsha("c10b") + `') ORDER BY authored_at`)
		want := [][]string{
			{"acme/payments", fsha("c10a"), "[" + fsha("base10") + "]", "2024-02-28T16:00:00Z", "2024-03-02T09:00:00Z", "Alice Example"},
			{"acme/payments", fsha("c10b"), "[" + fsha("c10a") + "]", "2024-03-01T09:30:00Z", "2024-03-02T09:00:00Z", "alice"},
		}
		compareRows(t, got, want)
		// the whole message (the fixture's subject, a blank line and a
		// body), for the revert trailers the transform reads
		if m := h.rows(`SELECT extra->>'message' FROM commits WHERE sha = '` + fsha("c9a") + `'`); len(m) != 1 || m[0][0] != "c9a: change\n\nbody" {
			t.Errorf("message of c9a: %q, want the subject, a blank line and the body", m)
		}
		if n := h.rows(`SELECT count(*) FROM commits WHERE source = 'github'`)[0][0]; n != "8" {
			t.Errorf("commits: %s rows, want 8 (5 in acme/payments, 3 in acme/web)", n)
		}
	})

	t.Run("requests", func(t *testing.T) {
		// Pages hold 2 items (WithPerPage(2)). acme/payments: pulls 2 pages;
		// commits 1 page × 4 PRs; reviews 0+1+9+1 items = 1+1+5+1 pages; = 14.
		// deployments 3 pages; statuses 2,0,2,2,3,1 items = 1+1+1+1+2+1
		// pages; = 10. workflows 1 (none match). Total 25.
		// acme/web: pulls 2 pages + 3 PRs × (commits, reviews, files) = 11;
		// deployments 1; releases 2 pages; workflows 1; Deploy runs 2 pages;
		// run 8003 (in progress) asked again for its ETag 1. Total 18.
		// 25 + 18 = 43.
		st := s.Stats()
		if st.Requests != 43 || st.NotModified != 0 || st.RateLimitWaits != 0 || st.Retries != 0 {
			t.Errorf("stats = %+v, want 43 requests, no 304, no waits, no retries", st)
		}
		if got := h.fake.count(); got != 43 {
			t.Errorf("server saw %d requests, want 43", got)
		}
		if st.Rows["raw_github_pulls"] != 7 || st.Rows["raw_github_deployments"] != 6 || st.Rows["raw_github_reviews"] != 12 {
			t.Errorf("rows = %v, want 7 pulls, 6 deployments, 12 reviews", st.Rows)
		}
	})

	t.Run("token", func(t *testing.T) {
		if !h.fake.auth["Bearer "+testToken] || len(h.fake.auth) != 1 {
			t.Errorf("Authorization headers seen: %d distinct, want only the bearer token", len(h.fake.auth))
		}
		if strings.Contains(h.dump(), testToken) || strings.Contains(h.log.String(), testToken) {
			t.Error("token found in the warehouse or the progress log")
		}
	})
}

func compareRows(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d:\n%s", len(got), len(want), fmtRows(got))
		return
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("row %d (%s) column %d = %q, want %q", i, want[i][0], j, got[i][j], want[i][j])
			}
		}
	}
}

func fmtRows(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, " | ") + "\n")
	}
	return b.String()
}

func TestResyncWithNothingNewIsAll304(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	before := h.dump()
	s := h.source(nil)
	h.mustSync(s)
	// pulls ×2, deployments ×2, statuses of unfinished 204 and 205, releases,
	// workflows ×2, Deploy runs, run 8003 (in progress) = 11, every one a 304.
	st := s.Stats()
	if st.Requests != 11 || st.NotModified != 11 {
		t.Errorf("re-sync: %d requests, %d not modified; want 11 and 11", st.Requests, st.NotModified)
	}
	if after := h.dump(); after != before {
		t.Errorf("re-sync changed the warehouse:\n%s", diff(before, after))
	}
}

func TestResyncPicksUpChanges(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))

	// Deployment 205 finishes; a new pull request #13 is opened.
	st := h.fake.list("/repos/acme/payments/deployments/205/statuses", "")
	success := map[string]any{}
	for k, v := range st[0] {
		success[k] = v
	}
	success["id"], success["state"], success["created_at"] = 2053, "success", "2024-03-07T10:10:00Z"
	h.fake.set("/repos/acme/payments/deployments/205/statuses", append([]map[string]any{success}, st...))
	pulls := h.fake.list("/repos/acme/payments/pulls", "")
	pr := map[string]any{}
	for k, v := range pulls[0] {
		pr[k] = v
	}
	pr["number"], pr["title"], pr["created_at"], pr["updated_at"] = 13, "Faster ledger", "2024-03-07T08:00:00Z", "2024-03-07T09:00:00Z"
	h.fake.set("/repos/acme/payments/pulls", append([]map[string]any{pr}, pulls...))
	c := h.fake.list("/repos/acme/payments/pulls/12/commits", "")
	c[0]["sha"] = fsha("c13a")
	h.fake.set("/repos/acme/payments/pulls/13/commits", c)
	h.fake.set("/repos/acme/payments/pulls/13/reviews", []any{})

	s := h.source(nil)
	h.mustSync(s)
	got := h.rows(`SELECT id, status, ` + ts("finished_at") + ` FROM deployments WHERE id = 'acme/payments/deployments/205'`)
	compareRows(t, got, [][]string{{"acme/payments/deployments/205", "success", "2024-03-07T10:10:00Z"}})
	got = h.rows(`SELECT id, ` + ts("first_commit_at") + ` FROM changes WHERE id = 'acme/payments#13'`)
	compareRows(t, got, [][]string{{"acme/payments#13", "2024-03-06T08:30:00Z"}})
	// payments: pulls page 1 (#13, #12; #12 unchanged, not fetched) and page 2
	// (#11 is older than the cursor: stop) + #13 commits and reviews = 4;
	// deployments list unchanged (a new status does not change it) 1 × 304;
	// statuses of 204 (304) and of 205 (now 3 items: 2 pages) = 3;
	// workflows 304. web: 6 × 304. 15 requests, 9 of them 304.
	stats := s.Stats()
	if stats.Requests != 15 || stats.NotModified != 9 {
		t.Errorf("stats = %+v, want 15 requests of which 9 are 304", stats)
	}
}

// failOnce answers request number n with the given status and headers.
func failOnce(n, status int, headers map[string]string, body string) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, r *http.Request, i int) bool {
		if i != n {
			return false
		}
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
		return true
	}
}

func baseline(t *testing.T) string {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	return h.dump()
}

func TestRateLimitsAndRetries(t *testing.T) {
	want := baseline(t)
	// The clock is fixed at 2024-03-07T12:00:00Z = 1709812800.
	resetIn30 := strconv.FormatInt(fixedNow.Add(30*time.Second).Unix(), 10)
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	primary := `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"}`
	tests := []struct {
		name      string
		fault     func(http.ResponseWriter, *http.Request, int) bool
		waits     []time.Duration // rate-limit waits, in order
		retries   int64
		limitWait int64
	}{
		{"primary 403 with reset", failOnce(3, 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetIn30}, primary),
			[]time.Duration{31 * time.Second}, 0, 1},
		{"primary 429 with reset", failOnce(3, 429, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetIn30}, primary),
			[]time.Duration{31 * time.Second}, 0, 1},
		{"secondary 403 with Retry-After", failOnce(5, 403, map[string]string{"Retry-After": "7"}, secondary),
			[]time.Duration{7 * time.Second}, 0, 1},
		{"secondary 403 without Retry-After", failOnce(5, 403, nil, secondary),
			[]time.Duration{time.Minute}, 0, 1},
		{"429 with Retry-After", failOnce(8, 429, map[string]string{"Retry-After": "12"}, `{"message":"Too Many Requests"}`),
			[]time.Duration{12 * time.Second}, 0, 1},
		{"bare 429 backs off", failOnce(8, 429, nil, ``), nil, 1, 0},
		{"502 then success", func(w http.ResponseWriter, r *http.Request, i int) bool {
			if i == 4 || i == 5 {
				w.WriteHeader(502)
				fmt.Fprint(w, `<html>Bad gateway</html>`)
				return true
			}
			return false
		}, nil, 2, 0},
		{"success that spends the limit makes the next request wait", failOnceOK(6, resetIn30),
			[]time.Duration{31 * time.Second}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.fake.fault = tt.fault
			s := h.source(nil)
			h.mustSync(s)
			if got := h.dump(); got != want {
				t.Errorf("warehouse differs from an undisturbed run:\n%s", diff(want, got))
			}
			st := s.Stats()
			if st.Retries != tt.retries || st.RateLimitWaits != tt.limitWait {
				t.Errorf("retries %d, waits %d; want %d, %d", st.Retries, st.RateLimitWaits, tt.retries, tt.limitWait)
			}
			var limitWaits []time.Duration
			for _, d := range h.sleeps.d {
				if d >= time.Second { // backoff delays here are ≤ 10 ms
					limitWaits = append(limitWaits, d)
				}
			}
			if fmt.Sprint(limitWaits) != fmt.Sprint(tt.waits) {
				t.Errorf("waits %v, want %v", limitWaits, tt.waits)
			}
		})
	}
}

// failOnceOK lets request n through but reports the limit spent with it.
func failOnceOK(n int, reset string) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, r *http.Request, i int) bool {
		if i != n {
			return false
		}
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset)
		// Let the normal handler write the body: headers set here survive
		// because it only sets the rate headers it owns afterwards.
		return false
	}
}

func TestNoWaitStopsCleanlyAndResumes(t *testing.T) {
	want := baseline(t)
	reset := strconv.FormatInt(fixedNow.Add(time.Hour).Unix(), 10)
	for _, n := range []int{2, 12, 25} {
		t.Run(fmt.Sprint("limit at request ", n), func(t *testing.T) {
			h := newHarness(t)
			h.fake.fault = failOnce(n, 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, `{"message":"API rate limit exceeded"}`)
			s := h.source(nil, WithNoWait(true))
			if err := h.sync(context.Background(), s); err != nil {
				t.Fatalf("sync with --no-wait: %v (want a clean stop)", err)
			}
			if !s.Stats().Partial {
				t.Error("run not marked partial")
			}
			if !strings.Contains(h.log.String(), "primary rate limit exhausted until 2024-03-07T13:00:00Z") {
				t.Errorf("progress does not say when the limit resets:\n%s", h.log)
			}
			h.fake.fault = nil
			h.mustSync(h.source(nil))
			if got := h.dump(); got != want {
				t.Errorf("resumed run differs from an uninterrupted one:\n%s", diff(want, got))
			}
		})
	}
}

func TestInterruptedRunResumesIdentically(t *testing.T) {
	want := baseline(t)
	for _, n := range []int{1, 6, 13, 22, 31, 40, 43} {
		for _, mode := range []string{"server fails", "context cancelled"} {
			if mode == "context cancelled" && n%2 == 1 {
				continue // the cancelled mode at 6, 22 and 40 is enough
			}
			if testing.Short() && n != 13 && n != 31 {
				continue
			}
			t.Run(fmt.Sprintf("%s at request %d", mode, n), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				h.fake.fault = func(w http.ResponseWriter, r *http.Request, i int) bool {
					if i < n {
						return false
					}
					if mode == "context cancelled" {
						cancel()
						<-r.Context().Done()
						return true
					}
					w.WriteHeader(500)
					fmt.Fprint(w, `{"message":"Server Error"}`)
					return true
				}
				err := h.sync(ctx, h.source(nil))
				if err == nil {
					t.Fatal("interrupted sync returned no error")
				}
				h.fake.fault = nil
				h.mustSync(h.source(nil))
				if got := h.dump(); got != want {
					t.Errorf("resumed run differs from an uninterrupted one:\n%s", diff(want, got))
				}
			})
		}
	}
}

func TestServerErrorsGiveUpAfterBackoff(t *testing.T) {
	h := newHarness(t)
	h.fake.fault = func(w http.ResponseWriter, r *http.Request, i int) bool {
		w.WriteHeader(503)
		fmt.Fprint(w, `{"message":"Service Unavailable"}`)
		return true
	}
	err := h.sync(context.Background(), h.source(nil))
	if err == nil || !strings.Contains(err.Error(), "github: acme/payments: 503") {
		t.Fatalf("err = %v, want a 503 naming acme/payments", err)
	}
	if h.fake.count() != 3 {
		t.Errorf("%d requests, want 3 (the backoff's attempts)", h.fake.count())
	}
}

func TestAuthAndNotFoundErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"401", 401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`,
			[]string{"github: acme/payments: 401 Unauthorized", "$GITHUB_TOKEN", "/repos/acme/payments/pulls"}},
		{"404", 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`,
			[]string{"github: acme/payments: 404 Not Found", "repository name", "$GITHUB_TOKEN", "api_url"}},
		{"403 permission", 403, `{"message":"Resource not accessible by personal access token"}`,
			[]string{"github: acme/payments: 403 Forbidden", "Resource not accessible"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.fault = failOnce(1, tt.status, nil, tt.body)
			err := h.sync(context.Background(), h.source(nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testToken) {
				t.Error("error contains the token")
			}
			if h.fake.count() != 1 {
				t.Errorf("%d requests, want 1 (no retry)", h.fake.count())
			}
		})
	}
}

func TestOrgSelection(t *testing.T) {
	h := newHarness(t)
	cfg := testConfig(h.fake.srv.URL)
	cfg.Repos = nil
	cfg.Org = "acme"
	cfg.Exclude = []string{"sandbox-*"}
	st := &ingest.State{DB: h.db, Source: Name, Now: func() time.Time { return fixedNow }}
	// The org has 3 repositories: 2 pages of 2. The second listing is
	// answered 304 twice and gives the same repositories.
	for i, want304 := range []int64{0, 2} {
		s := h.source(cfg)
		repos, err := s.repos(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(repos) != "[acme/payments acme/web]" {
			t.Errorf("listing %d: repos = %v, want [acme/payments acme/web]", i+1, repos)
		}
		if got := s.Stats(); got.Requests != 2 || got.NotModified != want304 {
			t.Errorf("listing %d: %d requests, %d 304; want 2, %d", i+1, got.Requests, got.NotModified, want304)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*config.GitHub)
		want string
	}{
		{"no repos", func(c *config.GitHub) { c.Repos = nil }, "github: repos:"},
		{"bad repo", func(c *config.GitHub) { c.Repos = []string{"payments"} }, `github: repos: "payments" is not an owner/name`},
		{"bad url", func(c *config.GitHub) { c.APIURL = "ftp://x" }, "github: api_url:"},
		{"url with credentials", func(c *config.GitHub) { c.APIURL = "https://user:secret@ghe.example.com/api/v3/" }, "github: api_url: must not carry credentials"},
		{"bad pattern", func(c *config.GitHub) { c.Deployments.Pattern = "(" }, "github: deployments.pattern:"},
		{"include without org", func(c *config.GitHub) { c.Include = []string{"x*"} }, "github: include/exclude:"},
		{"token value as variable", func(c *config.GitHub) { c.TokenEnv = "ghp_abc=1" }, "github: token_env:"},
		{"recheck window too long", func(c *config.GitHub) { c.RecheckWindow = config.Duration(91 * 24 * time.Hour) }, "github: recheck_window:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig("https://api.github.com/")
			tt.mod(c)
			_, err := New(c, func(string) string { return "" })
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestMapIsRepeatable(t *testing.T) {
	h := newHarness(t)
	s := h.source(nil)
	h.mustSync(s)
	before := h.dump()
	if err := s.Map(context.Background(), h.db); err != nil {
		t.Fatal(err)
	}
	if after := h.dump(); after != before {
		t.Errorf("second Map changed the warehouse:\n%s", diff(before, after))
	}
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 20; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, clip(x, y), clip(y, x)))
		}
	}
	return strings.Join(out, "\n")
}

var _ = errors.New

// clip shows a's text around its first difference from b.
func clip(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(i-80, 0)
	hi := min(i+160, len(a))
	return a[lo:hi]
}

func TestMapEnvironmentRules(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	tests := []struct {
		name    string
		pattern string
		prod    string
		want    [][]string
	}{
		// Without a pattern all 7 finished deployments stay; staging keeps its name.
		{"no pattern", "", "production", [][]string{{"production", "6"}, {"staging", "1"}}},
		// ^prod keeps production and prod (200, 201, 203); releases and deploy
		// runs have no GitHub environment and are always kept (3).
		{"pattern", "^prod", "production", [][]string{{"production", "6"}}},
		// The production name follows metrics.production_environments[0].
		{"production name", "", "live", [][]string{{"live", "6"}, {"staging", "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(h.fake.srv.URL)
			cfg.Deployments.Pattern = tt.pattern
			s := h.source(cfg, WithProductionName(tt.prod))
			if err := s.Map(context.Background(), h.db); err != nil {
				t.Fatal(err)
			}
			got := h.rows(`SELECT environment, count(*) FROM deployments WHERE source = 'github' GROUP BY 1 ORDER BY 1`)
			compareRows(t, got, tt.want)
		})
	}
}

func TestTokenFromFile(t *testing.T) {
	h := newHarness(t)
	path := t.TempDir() + "/token"
	if err := os.WriteFile(path, []byte("ghp_fromFILE123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(h.fake.srv.URL)
	cfg.TokenFile = path
	s, err := New(cfg, func(string) string { return "" }, WithPerPage(100), WithClock(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.repos(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := h.sync(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !h.fake.auth["Bearer ghp_fromFILE123"] {
		t.Errorf("token from token_file not sent; saw %v", len(h.fake.auth))
	}
}

// A run stopped inside a page keeps the pull requests of that page it had
// already fetched. With pages of 2, acme/payments' requests are: 1 pulls
// page 1 (#12, #11), 2–3 #12 commits and reviews, 4–5 #11, 6 pulls page 2
// (#10, #9), 7 #10 commits, 8–12 #10 reviews (9 reviews, 5 pages), 13 #9
// commits. Stopping at 13 keeps #10. The resumed run then costs, for
// payments' pulls, 2 list pages + #9 commits and reviews = 4 instead of 14,
// plus the 29 requests of everything after the pulls (43 − 14): 33.
func TestStoppedRunKeepsThePartOfAPageItFetched(t *testing.T) {
	want := baseline(t)
	h := newHarness(t)
	reset := strconv.FormatInt(fixedNow.Add(time.Hour).Unix(), 10)
	h.fake.fault = failOnce(13, 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, `{"message":"API rate limit exceeded"}`)
	if err := h.sync(context.Background(), h.source(nil, WithNoWait(true))); err != nil {
		t.Fatal(err)
	}
	if got := h.rows(`SELECT string_agg(CAST(number AS VARCHAR), ',' ORDER BY number) FROM raw_github_pulls`)[0][0]; got != "10,11,12" {
		t.Errorf("stored pull requests after the stop: %s, want 10,11,12", got)
	}
	h.fake.fault = nil
	s := h.source(nil)
	h.mustSync(s)
	if st := s.Stats(); st.Requests != 33 {
		t.Errorf("resumed run made %d requests, want 33", st.Requests)
	}
	if got := h.dump(); got != want {
		t.Errorf("resumed run differs from an uninterrupted one:\n%s", diff(want, got))
	}
}

// Repository names are case-insensitive: services configured as Acme/Web
// still apply to the rows of acme/web.
func TestServicesMatchRepositoryCaseInsensitively(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	cfg := testConfig(h.fake.srv.URL)
	cfg.Services = map[string][]string{"Acme/Web": {"web", "web-admin"}}
	cfg.ReleasesAsDeployments = []string{"ACME/web"}
	if err := h.source(cfg).Map(context.Background(), h.db); err != nil {
		t.Fatal(err)
	}
	got := h.rows(`SELECT id, service FROM changes WHERE repo = 'acme/web' UNION ALL
		SELECT id, service FROM deployments WHERE id = 'acme/web@v2.0.0' ORDER BY 1`)
	compareRows(t, got, [][]string{
		{"acme/web#3", "web"}, {"acme/web#4", "web-admin"}, {"acme/web#5:web", "web"},
		{"acme/web#5:web-admin", "web-admin"}, {"acme/web@v2.0.0", "web"},
	})
}
