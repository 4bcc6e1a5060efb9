package gitlab

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The fixtures in testdata/api are described, with the expected canonical
// rows worked out by hand, in testdata/README.md.

const testToken = "glpat-TESTtoken0123456789abcdef"

var fixedNow = time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC)

// fsha is the fixtures' sha: sha1 of a short tag, in hex.
func fsha(tag string) string {
	s := sha1.Sum([]byte(tag))
	return hex.EncodeToString(s[:])
}

func testConfig(u string) *Config {
	return &Config{
		URL:       u,
		Projects:  []string{"acme/payments"},
		Groups:    []string{"acme/platform"},
		Exclude:   []string{"sandbox-*"},
		Services:  map[string]string{"acme/platform/web": "web-frontend"},
		Pipelines: &Pipelines{DeployJobs: []string{"deploy-prod"}, TestReports: true},
		Incidents: &Incidents{},
		BotUsers:  []string{"renovate-bot"},
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
	fake   *fakeGitLab
	db     *warehouse.DB
	sleeps *sleeps
	log    *bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &harness{t: t, fake: newFakeGitLab(t), db: db, sleeps: &sleeps{}, log: &bytes.Buffer{}}
}

func (h *harness) source(cfg *Config, opts ...Option) *Source {
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
		if k == "GITLAB_TOKEN" {
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
		`SELECT project, iid, updated_at, origin, payload FROM raw_gitlab_merge_requests ORDER BY ALL`,
		`SELECT project, iid, position, sha, payload FROM raw_gitlab_mr_commits ORDER BY ALL`,
		`SELECT project, iid, payload FROM raw_gitlab_mr_approvals ORDER BY ALL`,
		`SELECT project, iid, id, payload FROM raw_gitlab_mr_notes ORDER BY ALL`,
		`SELECT project, id, updated_at, origin, payload FROM raw_gitlab_deployments ORDER BY ALL`,
		`SELECT project, id, updated_at, origin, payload FROM raw_gitlab_pipelines ORDER BY ALL`,
		`SELECT project, pipeline_id, id, origin, payload FROM raw_gitlab_jobs ORDER BY ALL`,
		`SELECT project, pipeline_id, payload FROM raw_gitlab_test_reports ORDER BY ALL`,
		`SELECT project, iid, updated_at, origin, payload FROM raw_gitlab_issues ORDER BY ALL`,
		`SELECT * FROM deployments WHERE source = 'gitlab' ORDER BY id`,
		`SELECT * FROM changes WHERE source = 'gitlab' ORDER BY id`,
		`SELECT * FROM commits WHERE source = 'gitlab' ORDER BY repo, sha`,
		`SELECT * FROM test_runs WHERE source = 'gitlab' ORDER BY id`,
		`SELECT * FROM incidents WHERE source = 'gitlab' ORDER BY id`,
		`SELECT scope, key, value FROM source_state WHERE source = 'gitlab' ORDER BY ALL`,
	}
	var b strings.Builder
	for _, q := range queries {
		fmt.Fprintf(&b, "-- %s\n", q)
		for _, r := range h.rows(q) {
			fmt.Fprintln(&b, strings.Join(r, " | "))
		}
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
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func ts(col string) string {
	return fmt.Sprintf(`coalesce(strftime(%s AT TIME ZONE 'UTC', '%%Y-%%m-%%dT%%H:%%M:%%SZ'), 'NULL')`, col)
}

func compareRows(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d:\n%s", len(got), len(want), fmtRows(got))
		return
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("row %d: %d columns, want %d", i, len(got[i]), len(want[i]))
			continue
		}
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
			out = append(out, fmt.Sprintf("line %d:\n- %.300s\n+ %.300s", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}

func list(tags ...string) string {
	var s []string
	for _, t := range tags {
		s = append(s, fsha(t))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func TestFirstSyncMapsFixtures(t *testing.T) {
	h := newHarness(t)
	s := h.source(nil)
	h.mustSync(s)

	t.Run("changes", func(t *testing.T) {
		got := h.rows(`SELECT id, service, repo, title, author, CAST(commit_shas AS VARCHAR), coalesce(merge_commit_sha, 'NULL'),
			` + ts("first_commit_at") + `, ` + ts("opened_at") + `, ` + ts("first_review_at") + `, ` + ts("approved_at") + `,
			` + ts("merged_at") + `, CAST(reviewers AS VARCHAR), approvals, is_revert, CAST(labels AS VARCHAR)
			FROM changes WHERE source = 'gitlab' ORDER BY id`)
		want := [][]string{
			{"acme/payments!10", "payments", "acme/payments", "Add refund endpoint", "alice", list("c10a", "c10b", "c10c"), fsha("M10"),
				"2024-02-28T16:00:00Z", "2024-03-01T10:00:00Z", "2024-03-01T13:00:00Z", "2024-03-02T10:00:00Z", "2024-03-02T15:00:00Z",
				"[bob, carol, dave]", "2", "false", "[feature, api]"},
			{"acme/payments!11", "payments", "acme/payments", `Revert "Add retry"`, "bob", list("c11a", "S11"), fsha("S11"),
				"2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z", "2024-03-04T11:00:00Z", "2024-03-04T12:00:00Z",
				"[carol]", "1", "true", "[]"},
			{"acme/payments!12", "payments", "acme/payments", "Tidy config", "carol", list("c12a", "S12"), fsha("M12"),
				"2024-03-05T07:30:00Z", "2024-03-05T08:00:00Z", "NULL", "NULL", "2024-03-05T09:00:00Z",
				"[]", "0", "false", "[]"},
			{"acme/platform/web!3", "web-frontend", "acme/platform/web", "Share session handling", "erin", list("w3a"), fsha("W3M"),
				"2024-03-03T08:00:00Z", "2024-03-03T10:00:00Z", "2024-03-03T15:00:00Z", "2024-03-03T15:00:00Z", "2024-03-04T10:00:00Z",
				"[frank]", "1", "false", "[frontend]"},
		}
		compareRows(t, got, want)
		got = h.rows(`SELECT CAST(extra->'$.approved_by' AS VARCHAR), extra->>'$.squash_commit_sha', extra->>'$.target_branch'
			FROM changes WHERE id = 'acme/payments!10'`)
		compareRows(t, got, [][]string{{`[{"username":"bob","approved_at":"2024-03-02T10:00:00Z"},{"username":"carol","approved_at":"2024-03-02T12:00:00Z"}]`, "NULL", "main"}})
	})

	t.Run("commits", func(t *testing.T) {
		got := h.rows(`SELECT repo, sha, CAST(parents AS VARCHAR), ` + ts("authored_at") + `, ` + ts("committed_at") + `, author
			FROM commits WHERE source = 'gitlab' AND sha IN ('` + fsha("c10b") + `', '` + fsha("w3a") + `') ORDER BY repo`)
		compareRows(t, got, [][]string{
			{"acme/payments", fsha("c10b"), list("c10a"), "2024-03-01T08:30:00Z", "2024-03-02T08:00:00Z", "Alice Example"},
			{"acme/platform/web", fsha("w3a"), list("wbase"), "2024-03-03T08:00:00Z", "2024-03-03T08:00:00Z", "Erin Example"},
		})
		// the whole message, for the revert trailers the transform reads
		got = h.rows(`SELECT extra->>'title', extra->>'message' FROM commits WHERE sha = '` + fsha("c10b") + `'`)
		compareRows(t, got, [][]string{{"Refund handler", "Refund handler\n\nPartial refunds go back to the card."}})
		if n := h.rows(`SELECT count(*) FROM commits WHERE source = 'gitlab'`)[0][0]; n != "6" {
			t.Errorf("commits: %s rows, want 6 (c10a, c10b, c10c, c11a, c12a, w3a)", n)
		}
	})

	t.Run("deployments", func(t *testing.T) {
		got := h.rows(`SELECT id, service, environment, ` + ts("finished_at") + `, ` + ts("started_at") + `, status,
			coalesce(version, 'NULL'), coalesce(commit_sha, 'NULL'), coalesce(triggered_by, 'NULL'), coalesce(url, 'NULL'),
			coalesce(extra->>'$.gitlab_environment', 'NULL')
			FROM deployments WHERE source = 'gitlab' ORDER BY id`)
		want := [][]string{
			{"acme/payments/deployments/200", "payments", "production", "2024-03-02T15:19:00Z", "2024-03-02T15:11:00Z", "success", "main", fsha("D200"), "alice", "https://gitlab.example.com/acme/payments/-/jobs/900", "NULL"},
			{"acme/payments/deployments/201", "payments", "staging", "2024-03-04T13:05:00Z", "2024-03-04T13:01:00Z", "failure", "v1.5.0-rc1", fsha("D201"), "bob", "https://gitlab.example.com/acme/payments/-/jobs/901", "NULL"},
			{"acme/payments/deployments/203", "payments", "production", "2024-03-05T10:02:00Z", "2024-03-05T10:00:00Z", "success", "v1.5.0", fsha("D203"), "carol", "NULL", "live-eu"},
			{"acme/payments/deployments/204", "payments", "production", "2024-03-06T11:03:00Z", "2024-03-06T11:01:00Z", "cancelled", "main", fsha("D204"), "bob", "https://gitlab.example.com/acme/payments/-/jobs/904", "NULL"},
			{"acme/platform/web/jobs/7002", "web-frontend", "production", "2024-03-04T12:15:00Z", "2024-03-04T12:05:00Z", "success", "main", fsha("W70"), "erin", "https://gitlab.example.com/acme/platform/web/-/jobs/7002", "NULL"},
			{"acme/platform/web/jobs/7102", "web-frontend", "production", "2024-03-05T10:07:00Z", "2024-03-05T10:05:00Z", "failure", "main", fsha("W71"), "erin", "https://gitlab.example.com/acme/platform/web/-/jobs/7102", "NULL"},
		}
		compareRows(t, got, want)
	})

	t.Run("test_runs", func(t *testing.T) {
		got := h.rows(`SELECT id, service, commit_sha, version, framework, suite, ` + ts("started_at") + `, tests, passed, failed,
			skipped, duration_s FROM test_runs WHERE source = 'gitlab' ORDER BY id`)
		compareRows(t, got, [][]string{
			{"acme/payments/pipelines/50/rspec", "payments", fsha("D200"), "main", "gitlab", "rspec", "2024-03-02T15:00:00Z", "120", "116", "3", "1", "81.5"},
			{"acme/platform/web/pipelines/70/jest", "web-frontend", fsha("W70"), "main", "gitlab", "jest", "2024-03-04T12:00:00Z", "40", "38", "0", "2", "12.25"},
		})
	})

	t.Run("incidents", func(t *testing.T) {
		got := h.rows(`SELECT id, service, severity, title, ` + ts("opened_at") + `, ` + ts("resolved_at") + `, extra->>'$.gitlab_severity'
			FROM incidents WHERE source = 'gitlab' ORDER BY id`)
		compareRows(t, got, [][]string{
			{"acme/payments#7", "billing", "sev1", "Refunds fail with 500", "2024-03-02T16:00:00Z", "2024-03-02T17:30:00Z", "critical"},
			{"acme/payments#8", "payments", "sev2", "Slow checkout", "2024-03-05T12:00:00Z", "NULL", "unknown"},
			{"acme/payments#9", "payments", "sev3", "Webhook retries pile up", "2024-03-06T08:00:00Z", "NULL", "unknown"},
		})
	})

	t.Run("requests", func(t *testing.T) {
		// Pages hold 2 items (WithPerPage(2)); see testdata/README.md for
		// the count of each list. Group acme/platform: 2 pages. payments:
		// merge requests 14, deployments 4, pipelines 4, incidents 3 = 25.
		// web: merge requests 5, deployments 1, pipelines 6, incidents 1 =
		// 13. 2 + 25 + 13 = 40.
		st := s.Stats()
		if st.Requests != 40 || st.NotModified != 0 || st.RateLimitWaits != 0 || st.Retries != 0 {
			t.Errorf("stats = %+v, want 40 requests, no 304, no waits, no retries\n%s", st, strings.Join(h.fake.paths, "\n"))
		}
		if got := h.fake.count(); got != 40 {
			t.Errorf("server saw %d requests, want 40", got)
		}
		want := map[string]int64{"raw_gitlab_merge_requests": 4, "raw_gitlab_mr_commits": 6, "raw_gitlab_mr_approvals": 4,
			"raw_gitlab_mr_notes": 5, "raw_gitlab_deployments": 5, "raw_gitlab_pipelines": 4, "raw_gitlab_jobs": 6,
			"raw_gitlab_test_reports": 3, "raw_gitlab_issues": 3}
		if fmt.Sprint(st.Rows) != fmt.Sprint(want) {
			t.Errorf("rows = %v\nwant   %v", st.Rows, want)
		}
	})

	t.Run("token", func(t *testing.T) {
		if h.fake.tokens["PRIVATE-TOKEN: "+testToken] != 40 || len(h.fake.tokens) != 1 {
			t.Errorf("credentials seen: %v, want PRIVATE-TOKEN on all 40 requests and nothing else", h.fake.tokens)
		}
		if strings.Contains(h.dump(), testToken) || strings.Contains(h.log.String(), testToken) {
			t.Error("token found in the warehouse or the progress log")
		}
	})
}

func TestResyncWithNothingNewIsAll304(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	before := h.dump()
	s := h.source(nil)
	h.mustSync(s)
	// Group listing: 2 pages; then one list per project and resource (4
	// each: merge requests, deployments, pipelines, incidents) = 10, every
	// one a 304.
	st := s.Stats()
	if st.Requests != 10 || st.NotModified != 10 {
		t.Errorf("re-sync: %d requests, %d not modified; want 10 and 10\n%s", st.Requests, st.NotModified, strings.Join(h.fake.paths[40:], "\n"))
	}
	if after := h.dump(); after != before {
		t.Errorf("re-sync changed the warehouse:\n%s", diff(before, after))
	}
	// Nothing new: the canonical rows are not even rewritten (the log of
	// canonical writes gains no row); a hand edit of them is undone by the
	// next sync, and a changed mapping setting maps again.
	writes := func() string { return h.rows(`SELECT count(*) FROM canonical_writes`)[0][0] }
	w0 := writes()
	h.mustSync(h.source(nil))
	if w := writes(); w != w0 {
		t.Errorf("a sync with nothing new logged canonical writes: %s rows, had %s", w, w0)
	}
	if _, err := h.db.Exec(`UPDATE changes SET title = 'edited' WHERE id = 'acme/payments!10'`); err != nil {
		t.Fatal(err)
	}
	h.mustSync(h.source(nil))
	if got := h.rows(`SELECT title FROM changes WHERE id = 'acme/payments!10'`)[0][0]; got != "Add refund endpoint" {
		t.Errorf("a sync after a hand edit of the canonical rows did not restore them (title %q)", got)
	}
	if _, err := h.db.Exec(`UPDATE changes SET title = 'edited' WHERE id = 'acme/payments!10'`); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(h.fake.srv.URL)
	cfg.BotUsers = nil
	h.mustSync(h.source(cfg))
	if got := h.rows(`SELECT title FROM changes WHERE id = 'acme/payments!10'`)[0][0]; got != "Add refund endpoint" {
		t.Errorf("a sync after a settings change did not map again (title %q)", got)
	}
}

func TestResyncPicksUpChanges(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))

	// Deployment 202 (running) finishes; merge request !13 is merged;
	// incident #8 is closed.
	const pp = "projects/acme%2Fpayments"
	deps := h.fake.list(pp + "/deployments")
	for _, d := range deps {
		if d["id"].(float64) == 202 {
			d["status"], d["updated_at"] = "success", "2024-03-07T09:30:00.000Z"
			job := d["deployable"].(map[string]any)
			job["status"], job["finished_at"] = "success", "2024-03-07T09:29:00.000Z"
		}
	}
	h.fake.set(pp+"/deployments", deps)
	mrs := h.fake.list(pp + "/merge_requests")
	mr := map[string]any{}
	for k, v := range mrs[2] { // !12
		mr[k] = v
	}
	mr["iid"], mr["id"], mr["title"] = 13, 11013, "Faster ledger"
	mr["created_at"], mr["merged_at"], mr["updated_at"] = "2024-03-07T08:00:00.000Z", "2024-03-07T09:00:00.000Z", "2024-03-07T09:00:00.000Z"
	mr["merge_commit_sha"], mr["squash_commit_sha"] = fsha("M13"), nil
	h.fake.set(pp+"/merge_requests", append(mrs, mr))
	commits := h.fake.list(pp + "/merge_requests/12/commits")
	commits[0]["id"], commits[0]["authored_date"] = fsha("c13a"), "2024-03-06T17:00:00.000Z"
	h.fake.set(pp+"/merge_requests/13/commits", commits)
	h.fake.set(pp+"/merge_requests/13/approvals", map[string]any{"iid": 13, "approved_by": []any{
		map[string]any{"user": map[string]any{"id": 4, "username": "dave"}, "approved_at": "2024-03-07T08:30:00.000Z"}}})
	h.fake.set(pp+"/merge_requests/13/notes", []any{})
	issues := h.fake.list(pp + "/issues")
	for _, i := range issues {
		if i["iid"].(float64) == 8 {
			i["state"], i["closed_at"], i["updated_at"] = "closed", "2024-03-07T10:00:00.000Z", "2024-03-07T10:00:00.000Z"
		}
	}
	h.fake.set(pp+"/issues", issues)

	s := h.source(nil)
	h.mustSync(s)
	got := h.rows(`SELECT id, status, ` + ts("finished_at") + ` FROM deployments WHERE id = 'acme/payments/deployments/202'`)
	compareRows(t, got, [][]string{{"acme/payments/deployments/202", "success", "2024-03-07T09:29:00Z"}})
	got = h.rows(`SELECT id, ` + ts("first_commit_at") + `, approvals, ` + ts("first_review_at") + ` FROM changes WHERE id = 'acme/payments!13'`)
	compareRows(t, got, [][]string{{"acme/payments!13", "2024-03-06T17:00:00Z", "1", "2024-03-07T08:30:00Z"}})
	got = h.rows(`SELECT id, ` + ts("resolved_at") + ` FROM incidents WHERE id = 'acme/payments#8'`)
	compareRows(t, got, [][]string{{"acme/payments#8", "2024-03-07T10:00:00Z"}})
	// Group: 2 × 304. payments: merge requests list (!13 alone, past the
	// cursor) + !13's commits, approvals, notes + the probe of the new
	// cursor = 5; deployments list (202) + probe = 2; pipelines 304;
	// incidents list (#8) + probe = 2. web: 4 × 304. 2+5+2+1+2+4 = 16
	// requests, 7 of them 304.
	st := s.Stats()
	if st.Requests != 16 || st.NotModified != 7 {
		t.Errorf("stats = %+v, want 16 requests of which 7 are 304", st)
	}
	if fmt.Sprint(st.Rows) != "map[raw_gitlab_deployments:1 raw_gitlab_issues:1 raw_gitlab_merge_requests:1 raw_gitlab_mr_approvals:1 raw_gitlab_mr_commits:1]" {
		t.Errorf("rows written: %v, want only the changed deployment, issue and the new merge request", st.Rows)
	}
}
