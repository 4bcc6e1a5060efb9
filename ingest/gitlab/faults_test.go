package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// failOnce answers request number n with the given status, headers and body.
func failOnce(n, status int, headers map[string]string, body string) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, r *http.Request, i int) bool {
		if i != n {
			return false
		}
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
		return true
	}
}

// spendOn lets request n through but reports the limit spent with it.
func spendOn(n int, reset string) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, r *http.Request, i int) bool {
		if i == n {
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", reset)
		}
		return false
	}
}

func baseline(t *testing.T) string {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	return h.dump()
}

func TestRateLimitsAndRetries(t *testing.T) {
	want := baseline(t)
	// The clock is fixed at 2024-03-07T12:00:00Z.
	in30 := strconv.FormatInt(fixedNow.Add(30*time.Second).Unix(), 10)
	in20 := fixedNow.Add(20 * time.Second).Format(http.TimeFormat)
	tooMany := `{"message":"Retry later"}`
	tests := []struct {
		name      string
		fault     func(http.ResponseWriter, *http.Request, int) bool
		waits     []time.Duration // rate-limit waits, in order
		retries   int64
		limitWait int64
	}{
		{"429 with Retry-After", failOnce(3, 429, map[string]string{"Retry-After": "7", "RateLimit-Remaining": "0", "RateLimit-Reset": in30}, tooMany),
			[]time.Duration{7 * time.Second}, 0, 1},
		{"429 with RateLimit-Reset only", failOnce(5, 429, map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": in30}, tooMany),
			[]time.Duration{31 * time.Second}, 0, 1},
		{"429 with RateLimit-ResetTime only", failOnce(8, 429, map[string]string{"RateLimit-ResetTime": in20}, tooMany),
			[]time.Duration{21 * time.Second}, 0, 1},
		{"bare 429 backs off", failOnce(8, 429, nil, ``), nil, 1, 0},
		{"502 twice then success", func(w http.ResponseWriter, r *http.Request, i int) bool {
			if i == 4 || i == 5 {
				w.WriteHeader(502)
				fmt.Fprint(w, `<html>502 Bad Gateway</html>`)
				return true
			}
			return false
		}, nil, 2, 0},
		{"a success that spends the limit makes the next request wait", spendOn(6, in30),
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

func TestNoWaitStopsCleanlyAndResumes(t *testing.T) {
	want := baseline(t)
	reset := strconv.FormatInt(fixedNow.Add(time.Hour).Unix(), 10)
	for _, n := range []int{2, 9, 20, 35} {
		t.Run(fmt.Sprint("limit at request ", n), func(t *testing.T) {
			h := newHarness(t)
			h.fake.fault = failOnce(n, 429, map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": reset}, `{"message":"Retry later"}`)
			s := h.source(nil, WithNoWait(true))
			if err := h.sync(context.Background(), s); err != nil {
				t.Fatalf("sync with --no-wait: %v (want a clean stop)", err)
			}
			if !s.Stats().Partial {
				t.Error("run not marked partial")
			}
			if !strings.Contains(h.log.String(), "rate limit spent until 2024-03-07T13:00:00Z") {
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
	// Requests 1-2 list the group; 3-16 are payments' merge requests (5
	// inside !10's details), 17-20 its deployments, 21-24 its pipelines,
	// 25-27 its incidents, 28-40 web's lists (see testdata/README.md).
	for _, n := range []int{1, 5, 12, 16, 20, 27, 33, 40} {
		for _, mode := range []string{"server fails", "context cancelled"} {
			if mode == "context cancelled" && n != 12 && n != 27 {
				continue
			}
			if testing.Short() && n != 12 && n != 27 {
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
					fmt.Fprint(w, `{"message":"500 Internal Server Error"}`)
					return true
				}
				if err := h.sync(ctx, h.source(nil)); err == nil {
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
	cfg := testConfig(h.fake.srv.URL)
	cfg.Groups, cfg.Exclude = nil, nil
	h.fake.fault = func(w http.ResponseWriter, r *http.Request, i int) bool {
		w.WriteHeader(503)
		fmt.Fprint(w, `{"message":"503 Service Unavailable"}`)
		return true
	}
	err := h.sync(context.Background(), h.source(cfg))
	if err == nil || !strings.Contains(err.Error(), "gitlab: acme/payments: 503 from GET "+h.fake.srv.URL+"/api/v4/projects/acme%2Fpayments/merge_requests") {
		t.Fatalf("err = %v, want a 503 naming acme/payments and the URL", err)
	}
	if h.fake.count() != 3 {
		t.Errorf("%d requests, want 3 (the backoff's attempts)", h.fake.count())
	}
}

func TestAuthErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"401", 401, `{"message":"401 Unauthorized"}`,
			[]string{"gitlab: acme/payments: 401 Unauthorized", "$GITLAB_TOKEN", "read_api", "/api/v4/projects/acme%2Fpayments/merge_requests"}},
		{"403 scope", 403, `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token ` + testToken + `.","scope":"api read_api"}`,
			[]string{"gitlab: acme/payments: 403 Forbidden", "$GITLAB_TOKEN", "read_api", "insufficient_scope", "[redacted]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := testConfig(h.fake.srv.URL)
			cfg.Groups, cfg.Exclude = nil, nil
			h.fake.fault = failOnce(1, tt.status, nil, tt.body)
			err := h.sync(context.Background(), h.source(cfg))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(h.log.String(), testToken) {
				t.Error("the error or the progress log contains the token")
			}
			if h.fake.count() != 1 {
				t.Errorf("%d requests, want 1 (no retry)", h.fake.count())
			}
		})
	}
}

// A project that answers 404 is named and skipped; the others are synced
// and mapped, and the run ends with an error naming it.
func TestMissingProjectIsNamedWhileOthersContinue(t *testing.T) {
	h := newHarness(t)
	cfg := testConfig(h.fake.srv.URL)
	cfg.Projects = []string{"acme/missing", "acme/payments"}
	s := h.source(cfg)
	err := h.sync(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "acme/missing: 404 Not Found from GET "+h.fake.srv.URL+"/api/v4/projects/acme%2Fmissing/merge_requests") ||
		!strings.Contains(err.Error(), "$GITLAB_TOKEN") {
		t.Fatalf("err = %v, want the 404 of acme/missing with its URL and the token variable", err)
	}
	if !strings.Contains(h.log.String(), "acme/missing: 404 Not Found") || !strings.Contains(h.log.String(), "skipped, the other projects go on") {
		t.Errorf("progress does not name the skipped project:\n%s", h.log)
	}
	got := h.rows(`SELECT repo, count(*) FROM changes WHERE source = 'gitlab' GROUP BY 1 ORDER BY 1`)
	compareRows(t, got, [][]string{{"acme/payments", "3"}, {"acme/platform/web", "1"}})
	if fmt.Sprint(s.Stats().Skipped) != "[acme/missing]" {
		t.Errorf("skipped = %v, want [acme/missing]", s.Stats().Skipped)
	}
}

func TestBadPayloadIsNamedAndNothingHalfWritten(t *testing.T) {
	tests := []struct {
		name, path, body, want string
	}{
		{"item without iid", "projects/acme%2Fpayments/merge_requests", `[{"id": 5, "title": "x", "state": "merged", "updated_at": "2024-03-01T00:00:00Z"}]`,
			"gitlab: acme/payments: merge request payload (item 1 of projects/acme%2Fpayments/merge_requests) has no id"},
		{"wrong type", "projects/acme%2Fpayments/merge_requests", `[{"iid": "seven", "state": "merged", "updated_at": "2024-03-01T00:00:00Z"}]`,
			"gitlab: acme/payments: merge request payload (item 1 of projects/acme%2Fpayments/merge_requests): json: cannot unmarshal string"},
		{"not JSON", "projects/acme%2Fpayments/deployments", `<html>maintenance</html>`,
			"gitlab: acme/payments: the answer of GET " + "{srv}" + "/api/v4/projects/acme%2Fpayments/deployments is not the JSON expected"},
		{"commit without id", "projects/acme%2Fpayments/merge_requests/11/commits", `[{"title": "no id"}]`,
			"gitlab: acme/payments!11: commit payload (item 1) has no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cfg := testConfig(h.fake.srv.URL)
			cfg.Groups, cfg.Exclude = nil, nil
			h.fake.mu.Lock()
			h.fake.routes["/api/v4/"+tt.path] = []byte(tt.body)
			h.fake.mu.Unlock()
			err := h.sync(context.Background(), h.source(cfg))
			want := strings.ReplaceAll(tt.want, "{srv}", h.fake.srv.URL)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, want)
			}
			// The page at fault is not stored, nor is the source's cursor.
			if n := h.rows(`SELECT count(*) FROM source_state WHERE source = 'gitlab' AND scope = 'acme/payments:merge_requests'`)[0][0]; tt.name != "not JSON" && n != "0" {
				t.Errorf("%s state rows saved for the merge requests after a bad payload", n)
			}
			if tt.name == "commit without id" {
				// !12 and !11 share a page (newest first): neither is stored.
				got := h.rows(`SELECT string_agg(CAST(iid AS VARCHAR), ',' ORDER BY iid) FROM raw_gitlab_merge_requests`)
				compareRows(t, got, [][]string{{"NULL"}})
			}
		})
	}
}

// A redirect to another host is followed without the credential.
func TestRedirectToAnotherHostDropsTheToken(t *testing.T) {
	h := newHarness(t)
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("PRIVATE-TOKEN")+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[]`)
	}))
	defer other.Close()
	h.fake.fault = func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.URL.EscapedPath() == "/api/v4/projects/acme%2Fpayments/merge_requests/12/notes" {
			http.Redirect(w, r, other.URL+"/notes", http.StatusFound)
			return true
		}
		return false
	}
	h.mustSync(h.source(nil))
	if len(seen) != 1 || seen[0] != "" {
		t.Errorf("the other host saw credentials %q, want one request without any", seen)
	}
}

func TestOAuthTokenIsSentAsBearer(t *testing.T) {
	h := newHarness(t)
	cfg := testConfig(h.fake.srv.URL)
	cfg.TokenType = "oauth"
	h.mustSync(h.source(cfg))
	if h.fake.tokens["Authorization: Bearer "+testToken] != 40 || len(h.fake.tokens) != 1 {
		t.Errorf("credentials seen: %v, want Authorization: Bearer on all 40 requests", h.fake.tokens)
	}
}

func TestFullSyncReportsDeletions(t *testing.T) {
	h := newHarness(t)
	h.mustSync(h.source(nil))
	const pp = "projects/acme%2Fpayments"
	mrs := h.fake.list(pp + "/merge_requests")
	h.fake.set(pp+"/merge_requests", []any{mrs[0], mrs[2]}) // !11 deleted
	deps := h.fake.list(pp + "/deployments")
	h.fake.set(pp+"/deployments", deps[1:]) // 200 deleted
	s := h.source(nil, WithFull(true))
	h.mustSync(s)
	for _, w := range []string{
		"gitlab: acme/payments: --full: 1 merge requests no longer listed by the server, removed: 11",
		"gitlab: acme/payments: --full: 1 deployments no longer listed by the server, removed: 200",
	} {
		if !strings.Contains(h.log.String(), w) {
			t.Errorf("progress does not say %q:\n%s", w, h.log)
		}
	}
	st := s.Stats()
	if fmt.Sprint(st.Deleted) != "map[raw_gitlab_deployments:1 raw_gitlab_merge_requests:1]" {
		t.Errorf("deleted = %v", st.Deleted)
	}
	got := h.rows(`SELECT (SELECT count(*) FROM changes WHERE id = 'acme/payments!11'), (SELECT count(*) FROM raw_gitlab_mr_commits WHERE iid = 11),
		(SELECT count(*) FROM deployments WHERE id = 'acme/payments/deployments/200'), (SELECT count(*) FROM changes WHERE source = 'gitlab')`)
	compareRows(t, got, [][]string{{"0", "0", "0", "3"}})
	// --full fetched every object again: the first sync's 40 requests,
	// less !11's 3 detail requests, less one page of merge requests (2
	// items: 1 page instead of 2) and one of deployments (4 items: 2 pages
	// instead of 3) = 35.
	if st.Requests != 35 {
		t.Errorf("--full made %d requests, want 35", st.Requests)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no projects", func(c *Config) { c.Projects, c.Groups, c.Exclude = nil, nil, nil }, "gitlab: projects:"},
		{"bad project", func(c *Config) { c.Projects = []string{"payments"} }, `gitlab: projects[0]: "payments" is not a project's full path`},
		{"bad url", func(c *Config) { c.URL = "ftp://x" }, "gitlab: url:"},
		{"url with credentials", func(c *Config) { c.URL = "https://user:secret@gitlab.example.com" }, "gitlab: url: must not carry credentials"},
		{"api url", func(c *Config) { c.URL = "https://gitlab.example.com/api/v4" }, "gitlab: url: \"https://gitlab.example.com/api/v4\": give the instance's address"},
		{"token value as variable", func(c *Config) { c.TokenEnv = "glpat-abc" }, "gitlab: token_env:"},
		{"token type", func(c *Config) { c.TokenType = "basic" }, "gitlab: token_type:"},
		{"bad glob", func(c *Config) { c.Include = []string{"["} }, "gitlab: include/exclude: bad pattern"},
		{"exclude without groups", func(c *Config) { c.Groups = nil }, "gitlab: include/exclude: only apply"},
		{"bad since", func(c *Config) { c.Since = "last week" }, "gitlab: since:"},
		{"severity value", func(c *Config) { c.Incidents.Severities = map[string]string{"critical": "p1"} }, "gitlab: incidents.severities[\"critical\"]"},
		{"nothing to read as incidents", func(c *Config) { f := false; c.Incidents.IssueType = &f }, "gitlab: incidents: issue_type is false"},
		{"empty deploy job", func(c *Config) { c.Pipelines.DeployJobs = []string{" "} }, "gitlab: pipelines.deploy_jobs[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig("https://gitlab.example.com")
			tt.mod(c)
			_, err := New(c, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestSinceBoundsTheFirstSync(t *testing.T) {
	for _, tt := range []struct{ since, want string }{
		{"2024-03-05", "2024-03-05T00:00:00.000Z"},
		{"3d", "2024-03-04T12:00:00.000Z"},
		{"2024-03-04T12:30:00+01:00", "2024-03-04T11:30:00.000Z"},
	} {
		h := newHarness(t)
		cfg := testConfig(h.fake.srv.URL)
		cfg.Since = tt.since
		h.mustSync(h.source(cfg))
		if !strings.Contains(h.fake.paths[2], "updated_after="+strings.ReplaceAll(tt.want, ":", "%3A")) {
			t.Errorf("since %s: first merge request list %s, want updated_after=%s", tt.since, h.fake.paths[2], tt.want)
		}
	}
}

func TestMapIsRepeatableAndFollowsProductionNames(t *testing.T) {
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
	// metrics.production_environments [live, production]: "live" is the
	// production name; deployments.production_environments adds "staging"
	// as production. Deploy jobs have no GitLab environment: they are
	// written with the production name and no gitlab_environment.
	cfg := testConfig(h.fake.srv.URL)
	cfg.Deployments.ProductionEnvironments = []string{" Staging "}
	if err := h.source(cfg, WithProductionEnvironments([]string{"live", "production"})).Map(context.Background(), h.db); err != nil {
		t.Fatal(err)
	}
	got := h.rows(`SELECT environment, count(*), string_agg(coalesce(extra->>'$.gitlab_environment', '-'), ',' ORDER BY id)
		FROM deployments WHERE source = 'gitlab' GROUP BY 1 ORDER BY 1`)
	compareRows(t, got, [][]string{{"live", "6", "production,staging,live-eu,production,-,-"}})
}

// A payload that echoes the token is stored with the token removed.
func TestEchoedTokenNeverReachesTheWarehouse(t *testing.T) {
	h := newHarness(t)
	h.fake.set("projects/acme%2Fpayments/merge_requests/12/notes", []any{map[string]any{
		"id": 521, "body": "curl -H 'PRIVATE-TOKEN: " + testToken + "' …", "system": false,
		"author": map[string]any{"id": 4, "username": "dave"}, "created_at": "2024-03-05T08:30:00.000Z"}})
	h.mustSync(h.source(nil))
	dump := h.dump()
	if strings.Contains(dump, testToken) || !strings.Contains(dump, "PRIVATE-TOKEN: [redacted]") {
		t.Errorf("the stored note still holds the token, or lost its text")
	}
	if got := h.rows(`SELECT ` + ts("first_review_at") + ` FROM changes WHERE id = 'acme/payments!12'`)[0][0]; got != "2024-03-05T08:30:00Z" {
		t.Errorf("first_review_at of !12 = %s, want dave's note at 2024-03-05T08:30:00Z (the JSON stayed valid)", got)
	}
}
