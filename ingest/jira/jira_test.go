package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The expected rows below are worked out by hand from the fixtures in
// testdata/; testdata/README.md shows the working. Times are UTC.

var wantIncidents = []string{
	"OPS-1|payments-api|sev1|2024-03-04 09:00|2024-03-04 09:15|2024-03-04 10:30|gh-4411|9f3c2ab|false",
	"OPS-2|ops|sev3|2024-03-04 14:00|NULL|2024-03-04 14:20|NULL|NULL|true",
	"OPS-3|ledger|sev1|2024-03-05 08:00|2024-03-05 08:05|2024-03-05 09:00|NULL|NULL|false",
	"OPS-4|search|sev2|2024-03-06 01:00|NULL|NULL|NULL|NULL|false",
}

var wantChangeRequests = []string{
	"CAB-1|payments-api,ledger|emergency|ann@acme.com|2024-03-05 08:30|2024-03-06 21:00|2024-03-06 22:30|implemented|2024-03-06 22:45|2024-03-08 00:00",
	"CAB-2|cab|normal|erin|2024-03-06 09:00|NULL|NULL|rejected|NULL|NULL",
	"CAB-3|search|standard|ann@acme.com|2024-03-07 16:00|2024-03-09 00:00|NULL|approved|NULL|NULL",
}

var wantApprovals = []string{
	"CAB-1|bob@acme.com|cab|approved|2024-03-05 14:00",
	"CAB-1|carol|cab|approved|2024-03-05 14:00",
	"CAB-2|dave@acme.com|cab|rejected|2024-03-07 10:00",
	"CAB-3|ann@acme.com|cab|approved|2024-03-08 09:00",
}

var wantTickets = []string{
	"SUP-1|payments-api|2024-03-04 12:00|2024-03-05 12:00|High|Service Request|2.4.0|OPS-1",
	"SUP-2|sup|2024-03-06 08:00|NULL|NULL|Question|NULL|NULL",
}

var wantPlans = []string{
	"PAY/2.4.0|payments-api|2.4.0|2024-03-06 00:00|2024-02-20 00:00",
	"WEB/web-1.0|web|web-1.0|2024-04-01 00:00|NULL",
}

// fixedNow is after every fixture time, so cursors are the issues' own times.
var fixedNow = time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)

func testConfig(url, flavor string) *config.Jira {
	return &config.Jira{
		URL: url, Flavor: flavor, TokenEnv: "JIRA_TOKEN", PageSize: 2,
		Incidents: &config.JiraIncidents{
			JQL: "project = OPS AND issuetype = Incident ORDER BY priority DESC", SeverityField: "customfield_10020",
			SeverityValues: map[string]string{"Critical": "sev2"},
		},
		ChangeRequests: &config.JiraChangeRequests{
			JQL: "project = CAB", RiskField: "customfield_10031", PlannedStartField: "customfield_10040",
			PlannedEndField: "customfield_10041", ApproverFields: []string{"customfield_10050"}, ReviewedField: "customfield_10060",
		},
		SupportTickets: &config.JiraSupportTickets{JQL: "project = SUP"},
		Releases:       &config.JiraReleases{Projects: []string{"PAY", "WEB"}, Services: map[string]string{"PAY": "payments-api"}},
	}
}

type harness struct {
	db     *warehouse.DB
	src    *Source
	fake   *fakeJira
	sleeps []time.Duration
	log    bytes.Buffer
}

func newHarness(t testing.TB, flavor string, mutate func(*harness, *config.Jira), opts ...Option) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{db: db, fake: newFake(t, flavor)}
	srv := h.fake.start()
	cfg := testConfig(srv.URL, flavor)
	if flavor == "cloud" {
		cfg.User = "ops-bot@acme.com"
		h.fake.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("ops-bot@acme.com:s3cret-token"))
	} else {
		h.fake.auth = "Bearer s3cret-token"
	}
	if mutate != nil {
		mutate(h, cfg)
	}
	getenv := func(k string) string {
		if k == "JIRA_TOKEN" {
			return "s3cret-token"
		}
		return ""
	}
	opts = append([]Option{
		WithBackoff(ingest.Backoff{Base: time.Second, Max: 4 * time.Second, Attempts: 3}),
		WithSleep(func(_ context.Context, d time.Duration) error { h.sleeps = append(h.sleeps, d); return nil }),
	}, opts...)
	h.src, err = New(cfg, getenv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) sync(t testing.TB) (*ingest.RunRecord, error) {
	t.Helper()
	run := &ingest.RunRecord{Source: Name}
	env := &ingest.Env{DB: h.db, Run: run, State: &ingest.State{DB: h.db, Source: Name, Now: func() time.Time { return fixedNow }},
		Progress: &h.log, Now: func() time.Time { return fixedNow }}
	return run, h.src.Sync(context.Background(), env)
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

// ts formats a TIMESTAMPTZ column in UTC to the minute.
func ts(col string) string {
	return fmt.Sprintf("strftime(timezone('UTC', %s), '%%Y-%%m-%%d %%H:%%M')", col)
}

func canonical(t testing.TB, db *warehouse.DB) map[string][]string {
	return map[string][]string{
		"incidents": rows(t, db, `SELECT id, service, severity, `+ts("opened_at")+`, `+ts("acknowledged_at")+`, `+ts("resolved_at")+`,
			caused_by_deployment, root_cause_sha, is_false_positive FROM incidents WHERE source = 'jira' ORDER BY id`),
		"change_requests": rows(t, db, `SELECT id, array_to_string(services, ','), risk, requested_by, `+ts("created_at")+`, `+ts("planned_start")+`,
			`+ts("planned_end")+`, status, `+ts("implemented_at")+`, `+ts("reviewed_after_at")+` FROM change_requests WHERE source = 'jira' ORDER BY id`),
		"approvals": rows(t, db, `SELECT change_request, approver, role, decision, `+ts("decided_at")+` FROM approvals
			WHERE source = 'jira' ORDER BY change_request, approver`),
		"support_tickets": rows(t, db, `SELECT id, service, `+ts("created_at")+`, `+ts("resolved_at")+`, priority, category, version, incident
			FROM support_tickets WHERE source = 'jira' ORDER BY id`),
		"release_plans": rows(t, db, `SELECT id, service, version, `+ts("planned_at")+`, `+ts("window_start")+`
			FROM release_plans WHERE source = 'jira' ORDER BY id`),
	}
}

func checkRows(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func checkCanonical(t *testing.T, db *warehouse.DB) {
	t.Helper()
	c := canonical(t, db)
	checkRows(t, "incidents", c["incidents"], wantIncidents)
	checkRows(t, "change_requests", c["change_requests"], wantChangeRequests)
	checkRows(t, "approvals", c["approvals"], wantApprovals)
	checkRows(t, "support_tickets", c["support_tickets"], wantTickets)
	checkRows(t, "release_plans", c["release_plans"], wantPlans)
}

func TestSyncMapsBothFlavours(t *testing.T) {
	for _, flavor := range []string{"datacenter", "cloud"} {
		t.Run(flavor, func(t *testing.T) {
			h := newHarness(t, flavor, nil)
			run, err := h.sync(t)
			if err != nil {
				t.Fatalf("sync: %v\n%s", err, h.log.String())
			}
			checkCanonical(t, h.db)

			search := "/rest/api/2/search?"
			if flavor == "cloud" {
				search = "/rest/api/2/search/jql?"
			}
			// Page size 2: OPS has 4 issues → 2 pages, CAB 3 → 2, SUP 2 → 1.
			if n := h.fake.count(search); n != 5 {
				t.Errorf("search requests = %d, want 5", n)
			}
			if flavor == "cloud" {
				// OPS-3's 3 histories, served 2 per page: 2 changelog requests.
				if n := h.fake.count("/rest/api/2/issue/OPS-3/changelog?"); n != 2 {
					t.Errorf("changelog requests = %d, want 2", n)
				}
			} else {
				// No changelog endpoint (404), then the issue with expand=changelog.
				if n := h.fake.count("/rest/api/2/issue/OPS-3?"); n != 1 {
					t.Errorf("issue requests for the DC changelog = %d, want 1", n)
				}
			}
			// 4 + 3 + 2 issues and 2 + 1 versions.
			if run.Read != 12 || run.Written != 12 {
				t.Errorf("run read/written = %d/%d, want 12/12", run.Read, run.Written)
			}
			if h.fake.jqls[0] != "(project = OPS AND issuetype = Incident) ORDER BY created ASC, key ASC" {
				t.Errorf("first JQL = %q", h.fake.jqls[0])
			}
			var histories int
			if err := h.db.QueryRow(`SELECT count(*) FROM raw_jira_changelogs WHERE issue_key = 'OPS-3'`).Scan(&histories); err != nil || histories != 3 {
				t.Errorf("stored histories of OPS-3 = %d (%v), want 3", histories, err)
			}
		})
	}
}

func TestIncrementalSyncIsIdempotent(t *testing.T) {
	h := newHarness(t, "datacenter", nil)
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	before := canonical(t, h.db)
	h.fake.jqls = nil
	run, err := h.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	// Cursors: incidents OPS-4 updated 2024-03-06T06:30+0530 = 01:00Z,
	// minus the 5 min overlap = 00:55Z = 01:55 in Berlin (UTC+1 in March).
	// Change requests: CAB-3 09:00Z - 5m = 08:55Z = 09:55 Berlin.
	// Support tickets: SUP-2 08:00Z - 5m = 07:55Z = 08:55 Berlin.
	want := []string{
		`(project = OPS AND issuetype = Incident) AND updated >= "2024-03-06 01:55" ORDER BY created ASC, key ASC`,
		`(project = CAB) AND updated >= "2024-03-08 09:55" ORDER BY created ASC, key ASC`,
		`(project = SUP) AND updated >= "2024-03-06 08:55" ORDER BY created ASC, key ASC`,
	}
	checkRows(t, "JQL", h.fake.jqls, want)
	// Re-read: OPS-4, CAB-3, SUP-2 and the 3 versions.
	if run.Read != 6 {
		t.Errorf("second run read %d, want 6", run.Read)
	}
	after := canonical(t, h.db)
	for k := range before {
		checkRows(t, k+" after re-sync", after[k], before[k])
	}
	var n int
	if err := h.db.QueryRow(`SELECT count(*) FROM raw_jira_issues`).Scan(&n); err != nil || n != 9 {
		t.Errorf("raw issues = %d (%v), want 9", n, err)
	}
}

func TestFullSyncReportsGoneIssues(t *testing.T) {
	h := newHarness(t, "cloud", nil)
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	h.fake.hidden = map[string]bool{"OPS-2": true, "OPS-3": true, "OPS-4": true}
	h.fake.deleted["OPS-2"] = true
	h.fake.moved["OPS-4"] = "INC-9"
	h.src.full = true
	h.log.Reset()
	run, err := h.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	wantGone := []string{"OPS-2 deleted (incidents)", "OPS-3 left_query (incidents)", "OPS-4 moved to INC-9 (incidents)"}
	checkRows(t, "gone", h.src.Gone, wantGone)
	if !strings.Contains(run.Cursor, `"OPS-4 moved to INC-9 (incidents)"`) {
		t.Errorf("run cursor %s lacks the gone issues", run.Cursor)
	}
	if !strings.Contains(h.log.String(), "OPS-2 deleted") {
		t.Errorf("progress does not list gone issues:\n%s", h.log.String())
	}
	got := canonical(t, h.db)["incidents"]
	checkRows(t, "incidents after full sync", got, wantIncidents[:1])
	// SUP-1 still links OPS-1; nothing else changed.
	checkRows(t, "support_tickets", canonical(t, h.db)["support_tickets"], wantTickets)
}

func TestMovedIssueDetectedIncrementally(t *testing.T) {
	h := newHarness(t, "datacenter", nil)
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	// OPS-4 moves to project OPS2 as OPS-40 (same id 10004); a move updates it.
	moved := strings.Replace(string(h.fake.issues["OPS"][3]), `"key": "OPS-4"`, `"key": "OPS-40"`, 1)
	moved = strings.Replace(moved, `"updated": "2024-03-06T06:30:00.000+0530"`, `"updated": "2024-03-09T10:00:00.000+0000"`, 1)
	h.fake.issues["OPS"][3] = []byte(moved)
	h.fake.heads = nil
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	var reason string
	if err := h.db.QueryRow(`SELECT gone_reason FROM raw_jira_issues WHERE key = 'OPS-4'`).Scan(&reason); err != nil || reason != "moved:OPS-40" {
		t.Errorf("OPS-4 gone_reason = %q (%v), want moved:OPS-40", reason, err)
	}
	got := canonical(t, h.db)["incidents"]
	if len(got) != 4 || !strings.HasPrefix(got[3], "OPS-40|search|sev2|") {
		t.Errorf("incidents after move:\n%s", strings.Join(got, "\n"))
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		flavor    string
		setup     func(h *harness, cfg *config.Jira)
		wantErr   []string // substrings; nil = success
		notErr    []string
		wantSleep []time.Duration // exact, or nil to check bounds only
		sleeps    int
	}{
		{
			name:   "429 honours Retry-After",
			flavor: "cloud",
			setup: func(h *harness, _ *config.Jira) {
				h.fake.faults["/rest/api/2/search/jql"] = []int{429}
				h.fake.retryAfter = "7"
			},
			wantSleep: []time.Duration{7 * time.Second},
			sleeps:    1,
		},
		{
			name:   "5xx retried with bounded backoff",
			flavor: "datacenter",
			setup: func(h *harness, _ *config.Jira) {
				h.fake.faults["/rest/api/2/search"] = []int{502, 503}
			},
			sleeps: 2,
		},
		{
			name:   "5xx gives up after the attempts",
			flavor: "datacenter",
			setup: func(h *harness, _ *config.Jira) {
				h.fake.faults["/rest/api/2/search"] = []int{500, 500, 500}
			},
			wantErr: []string{"answered 500 Internal Server Error after 3 attempts", "/rest/api/2/search"},
			sleeps:  2,
		},
		{
			name:   "401 names user, token variable and URL",
			flavor: "cloud",
			setup: func(h *harness, _ *config.Jira) {
				h.fake.auth = "Basic something-else"
			},
			wantErr: []string{"401 Unauthorized", "/rest/api/2/myself", "user ops-bot@acme.com", "$JIRA_TOKEN"},
			notErr:  []string{"s3cret-token"},
		},
		{
			name:   "403 with a personal access token",
			flavor: "datacenter",
			setup: func(h *harness, _ *config.Jira) {
				h.fake.faults["/rest/api/2/search"] = []int{403}
			},
			wantErr: []string{"403 Forbidden", "personal access token in $JIRA_TOKEN"},
			notErr:  []string{"s3cret-token"},
		},
		{
			name:   "JQL error shows Jira's message",
			flavor: "datacenter",
			setup: func(_ *harness, cfg *config.Jira) {
				cfg.Incidents.JQL = "projct = OPS"
			},
			wantErr: []string{"(400)", "Field 'projct' does not exist or you do not have permission to view it.", "section incidents"},
		},
		{
			name:   "Cloud's removed search endpoint",
			flavor: "cloud",
			setup: func(h *harness, cfg *config.Jira) {
				cfg.Flavor = "datacenter"
				cfg.User = ""
				h.fake.auth = ""
			},
			wantErr: []string{"410 Gone", "flavor: cloud"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.flavor, tt.setup)
			_, err := h.sync(t)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				checkCanonical(t, h.db)
			} else {
				if err == nil {
					t.Fatal("sync succeeded, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				for _, w := range tt.notErr {
					if strings.Contains(err.Error()+h.log.String(), w) {
						t.Errorf("error or log shows %q", w)
					}
				}
			}
			if len(h.sleeps) != tt.sleeps {
				t.Errorf("slept %d times (%v), want %d", len(h.sleeps), h.sleeps, tt.sleeps)
			}
			for i, d := range h.sleeps {
				if tt.wantSleep != nil {
					if d != tt.wantSleep[i] {
						t.Errorf("sleep %d = %v, want %v", i, d, tt.wantSleep[i])
					}
					continue
				}
				// Backoff{Base: 1s, Max: 4s}: retry n waits at most min(1s<<(n-1), 4s).
				if limit := min(time.Second<<i, 4*time.Second); d <= 0 || d > limit {
					t.Errorf("sleep %d = %v, want in (0, %v]", i, d, limit)
				}
			}
		})
	}
}

func TestMissingTokenFailsSyncNotMap(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t, "datacenter")
	srv := fake.start()
	src, err := New(testConfig(srv.URL, "datacenter"), nil)
	if err != nil {
		t.Fatalf("New without a token: %v", err)
	}
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = src.Sync(ctx, &ingest.Env{DB: db, State: &ingest.State{DB: db, Source: Name}})
	if err == nil || !strings.Contains(err.Error(), "$JIRA_TOKEN is empty") {
		t.Errorf("Sync error = %v, want $JIRA_TOKEN is empty", err)
	}
	if len(fake.requests) != 0 {
		t.Errorf("requests sent without a token: %v", fake.requests)
	}
	if err := src.Map(ctx, db); err != nil {
		t.Errorf("Map without a token: %v", err)
	}
}

// TestTextLinks checks the conservative reading of deployment ids and
// commit shas from incident text: a keyword with ":" or "#" for
// deployments (and a digit in the id), a keyword and 7–40 hex digits for
// commits. Bare numbers and hex words are not links.
func TestTextLinks(t *testing.T) {
	tests := []struct {
		text, deployment, sha string
	}{
		{"Errors after deployment: gh-4411.", "gh-4411", "NULL"},
		{"Deploy #4411 broke checkout", "4411", "NULL"},
		{"deployment id: deploy-2024-03-01.3, rolled back", "deploy-2024-03-01.3", "NULL"},
		{"after the deployment yesterday", "NULL", "NULL"},
		{"deployment: pending", "NULL", "NULL"},
		{"build 4411 failed", "NULL", "NULL"},
		{"caused by commit 9f3c2ab1", "NULL", "9f3c2ab1"},
		{"sha: DEADBEEF12", "NULL", "deadbeef12"},
		{"see abcdef1234 in the logs", "NULL", "NULL"},
		{"commit: 12345", "NULL", "NULL"},
		{"commit: 9f3c2abz", "NULL", "NULL"},
	}
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src, err := New(&config.Jira{URL: "https://jira.acme.test", Incidents: &config.JiraIncidents{JQL: "project = OPS"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var page []fetched
	for i, tt := range tests {
		desc, _ := json.Marshal(tt.text)
		raw := fmt.Sprintf(`{"id": "%d", "key": "OPS-%d", "fields": {"summary": "s", "description": %s,
			"project": {"key": "OPS"}, "created": "2024-03-04T10:00:00.000+0000", "updated": "2024-03-04T10:00:00.000+0000"}}`,
			i+1, i+1, desc)
		var f fetched
		f.raw = json.RawMessage(raw)
		if err := json.Unmarshal(f.raw, &f.head); err != nil {
			t.Fatal(err)
		}
		page = append(page, f)
	}
	if err := src.writeIssues(ctx, db, "incidents", page, fixedNow); err != nil {
		t.Fatal(err)
	}
	if err := src.Map(ctx, db); err != nil {
		t.Fatal(err)
	}
	got := rows(t, db, `SELECT caused_by_deployment, root_cause_sha FROM incidents ORDER BY CAST(substr(id, 5) AS INT)`)
	for i, tt := range tests {
		if want := tt.deployment + "|" + tt.sha; i >= len(got) || got[i] != want {
			t.Errorf("%q: got %v, want %s", tt.text, got[i:min(i+1, len(got))], want)
		}
	}
}
