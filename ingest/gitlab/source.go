// Package gitlab is the GitLab source: it pulls merged merge requests (with
// their commits, approvals and notes), deployments, pipelines with their
// jobs and test report summaries, and incident issues from the GitLab REST
// API (gitlab.com or a self-managed instance, through client-go) into
// raw_gitlab_* tables, and maps them to the canonical changes, commits,
// deployments, test_runs and incidents with SQL (see docs/gitlab.md for
// the rules).
//
// Every list is read incrementally per project and resource: ordered by
// updated_at, newest first, filtered with updated_after at the last run's
// cursor, and the first page is sent with the ETag of the same query, so an
// unchanged list costs one request answered 304. An object whose stored
// copy has the same updated_at is not fetched again. Rows are committed per
// page and a cursor is saved only after the walk it describes completed, so
// an interrupted run resumes without gaps or duplicates.
package gitlab

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/apihttp"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Name is the source's name in ingest_runs and the canonical source column.
const Name = "gitlab"

var (
	_ ingest.Source = (*Source)(nil)
	_ ingest.Mapper = (*Source)(nil)
)

// Source pulls from one GitLab instance.
type Source struct {
	cfg      Config
	token    string
	client   *gl.Client
	tr       *apihttp.Transport
	mu       sync.Mutex // guards stats
	stats    Stats
	perPage  int64
	prodEnvs []string
	full     bool
	progress io.Writer
	now      func() time.Time
}

// Option changes how a Source works; tests and the command use them.
type Option func(*Source)

// WithHTTPClient sets the client whose transport carries the requests
// (default http.DefaultTransport).
func WithHTTPClient(c *http.Client) Option {
	return func(s *Source) {
		if c != nil && c.Transport != nil {
			s.tr.Base = c.Transport
		}
	}
}

// WithSleep replaces the wait used for backoff and rate limits (tests make
// it instant and record the delays).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(s *Source) { s.tr.Sleep = f }
}

// WithBackoff sets the retry policy for 5xx, network errors and 429s that
// say nothing of when to come back.
func WithBackoff(b ingest.Backoff) Option { return func(s *Source) { s.tr.Backoff = b } }

// WithNoWait stops at a spent rate limit instead of waiting.
func WithNoWait(v bool) Option { return func(s *Source) { s.tr.NoWait = v } }

// WithMaxWait caps one rate-limit wait (0 = no cap).
func WithMaxWait(d time.Duration) Option { return func(s *Source) { s.tr.MaxWait = d } }

// WithPerPage sets the page size asked for (default 100, the API's maximum).
func WithPerPage(n int) Option { return func(s *Source) { s.perPage = int64(n) } }

// WithProgress sets where waits and per-project progress are written.
func WithProgress(w io.Writer) Option {
	return func(s *Source) { s.progress = w; s.tr.Progress = w }
}

// WithClock sets the clock used for rate-limit resets, since ages and
// fetched_at.
func WithClock(now func() time.Time) Option {
	return func(s *Source) { s.now = now; s.tr.Now = now }
}

// WithProductionEnvironments passes metrics.production_environments: the
// first is the name production deployments are written with, and every one
// of them (besides deployments.production_environments and environments of
// the production tier) is production.
func WithProductionEnvironments(names []string) Option {
	return func(s *Source) {
		if len(names) > 0 {
			s.prodEnvs = append([]string(nil), names...)
		}
	}
}

// WithFull re-reads every list from the start (ignoring cursors and ETags),
// fetches every object again, and removes the raw rows of objects the
// server no longer lists, reporting them.
func WithFull(v bool) Option { return func(s *Source) { s.full = v } }

// New checks cfg and builds a Source. The token is read with getenv from the
// variable named by cfg.TokenEnv (default GITLAB_TOKEN), or from
// cfg.TokenFile; without one, requests go out unauthenticated (public
// projects only). getenv may be nil, for a Source used only as an
// ingest.Mapper or to store webhooks.
func New(cfg *Config, getenv func(string) string, opts ...Option) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("gitlab: no sources.gitlab section in the configuration")
	}
	c := *cfg
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	token := strings.TrimSpace(getenv(c.TokenEnv))
	if token == "" && c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("gitlab: token_file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	s := &Source{
		cfg:      c,
		token:    token,
		perPage:  100,
		prodEnvs: []string{"production", "prod"},
		progress: io.Discard,
		now:      time.Now,
	}
	s.stats.Rows = map[string]int64{}
	s.stats.Deleted = map[string]int64{}
	s.tr = apihttp.New(limits)
	s.tr.NoWait = c.NoWait
	for _, o := range opts {
		o(s)
	}
	origin, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("gitlab: url: %w", err)
	}
	// The credential is added per request by ingest.Credentials, for the
	// configured origin only: the client itself carries none, so a redirect
	// to another host (which net/http follows with the original headers)
	// never sends it.
	creds := &ingest.Credentials{Base: s.tr, Origin: origin, Set: func(h http.Header) {
		switch {
		case token == "":
		case c.TokenType == "oauth":
			h.Set("Authorization", "Bearer "+token)
		default:
			h.Set("PRIVATE-TOKEN", token)
		}
	}}
	s.client, err = gl.NewAuthSourceClient(gl.Unauthenticated{},
		gl.WithBaseURL(strings.TrimSuffix(c.URL, "/")),
		gl.WithHTTPClient(&http.Client{Transport: creds}),
		gl.WithoutRetries(),
		gl.WithCustomLimiter(noLimit{}),
		gl.WithUserAgent("shiplog"),
		gl.WithURLWarningLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return nil, fmt.Errorf("gitlab: client: %w", err)
	}
	return s, nil
}

// noLimit turns off client-go's own limiter: the transport follows the
// server's RateLimit-* headers instead.
type noLimit struct{}

func (noLimit) Wait(context.Context) error { return nil }

// Name returns "gitlab".
func (s *Source) Name() string { return Name }

// Config returns the source's settings with defaults applied.
func (s *Source) Config() Config { return s.cfg }

// Stats returns what the runs so far cost and wrote.
func (s *Source) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Counts = s.tr.Counts()
	out.Rows = map[string]int64{}
	for k, v := range s.stats.Rows {
		out.Rows[k] = v
	}
	out.Deleted = map[string]int64{}
	for k, v := range s.stats.Deleted {
		out.Deleted[k] = v
	}
	out.Skipped = append([]string(nil), s.stats.Skipped...)
	return out
}

// Target describes what a run reads, for ingest_runs.target.
func (s *Source) Target() string {
	parts := append([]string{}, s.cfg.Projects...)
	for _, g := range s.cfg.Groups {
		parts = append(parts, "group:"+g)
	}
	return s.cfg.URL + " " + strings.Join(parts, ",")
}

// Sync fetches what changed in every configured project into the raw
// tables, then maps raw to canonical. A project that answers 404 is named
// and left out while the others go on; Sync then returns an error naming it
// after the others are synced and mapped. When the rate limit is spent and
// the source was told not to wait, it stops cleanly: Sync returns nil,
// Stats().Partial is true and the cursors of finished work are saved.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	if env.Now != nil {
		s.now = env.Now
		s.tr.Now = env.Now
	}
	if env.Progress != nil && s.progress == io.Discard {
		s.progress = env.Progress
		s.tr.Progress = env.Progress
	}
	st := env.State
	if st == nil {
		st = &ingest.State{DB: env.DB, Source: Name, Now: s.now}
	}
	since, err := s.cfg.SinceTime(s.now())
	if err != nil {
		return err
	}
	p := &projectSync{s: s, db: env.DB, state: st, since: since}
	var missing []string
	projects, err := s.projects(ctx, st, &missing)
	if err == nil {
		for i, proj := range projects {
			fmt.Fprintf(s.progress, "gitlab: [%d/%d] %s\n", i+1, len(projects), proj)
			err = p.sync(ctx, proj)
			var nf *notFoundError
			if errors.As(err, &nf) {
				msg := fmt.Sprintf("%s: %s", proj, nf.Error())
				fmt.Fprintf(s.progress, "gitlab: %s; skipped, the other projects go on\n", msg)
				s.mu.Lock()
				s.stats.Skipped = append(s.stats.Skipped, proj)
				s.mu.Unlock()
				missing = append(missing, msg)
				err = nil
				continue
			}
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		if !apihttp.IsRateLimited(err) {
			return err
		}
		s.mu.Lock()
		s.stats.Partial = true
		s.mu.Unlock()
		fmt.Fprintln(s.progress, err.Error()+"; cursors of finished work are saved, run again after the reset to continue")
	}
	if env.Run != nil {
		st := s.Stats()
		var n int64
		for _, v := range st.Rows {
			n += v
		}
		env.Run.Read += n
		env.Run.Written += n
		env.Run.Partial = env.Run.Partial || st.Partial
	}
	// nothing new fetched, nothing changed: Map skips (ingest.Mapping)
	if err := s.Map(ctx, env.DB); err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("gitlab: %d not found (404) and skipped, check the path and that the token in $%s can read it: %s",
			len(missing), s.cfg.TokenEnv, strings.Join(missing, "; "))
	}
	return nil
}

// rawTables are the source's raw tables (migration 0040).
var rawTables = []string{"raw_gitlab_merge_requests", "raw_gitlab_mr_commits", "raw_gitlab_mr_approvals", "raw_gitlab_mr_notes",
	"raw_gitlab_deployments", "raw_gitlab_pipelines", "raw_gitlab_jobs", "raw_gitlab_test_reports", "raw_gitlab_issues"}

// Ingest is one whole recorded run (ingest.Run), for `shiplog ingest
// gitlab`, `ingest --all` and scheduled runs in `serve`: success, partial
// (stopped at the rate limit with --no-wait) or failed with the error's
// text.
func (s *Source) Ingest(ctx context.Context, db *warehouse.DB, progress io.Writer) (*ingest.RunRecord, error) {
	return ingest.Run(ctx, s, &ingest.Env{DB: db, Progress: progress, Now: s.now})
}

// projects returns the configured projects plus those of the groups that
// pass include/exclude, sorted and without duplicates. Each page of a
// group's list is asked for with its own ETag (kept with the page's paths
// in st), so an unchanged list costs only 304s. A group that answers 404 is
// added to missing and left out.
func (s *Source) projects(ctx context.Context, st *ingest.State, missing *[]string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if k := strings.ToLower(p); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	for _, p := range s.cfg.Projects {
		add(p)
	}
	for _, g := range s.cfg.Groups {
		for page := int64(1); page != 0; {
			paths, next, err := s.groupPage(ctx, st, g, page)
			var nf *notFoundError
			if errors.As(err, &nf) {
				msg := fmt.Sprintf("group %s: %s", g, nf.Error())
				fmt.Fprintf(s.progress, "gitlab: %s; skipped\n", msg)
				*missing = append(*missing, msg)
				break
			}
			if err != nil {
				return nil, err
			}
			for _, p := range paths {
				if s.cfg.selected(p) {
					add(p)
				}
			}
			page = next
		}
	}
	sort.Strings(out)
	return out, nil
}

type groupPageState struct {
	Paths []string `json:"paths"`
	Next  int64    `json:"next"`
}

func (s *Source) groupPage(ctx context.Context, st *ingest.State, group string, page int64) ([]string, int64, error) {
	scope := fmt.Sprintf("group:%s/projects/page/%d", group, page)
	var etag string
	var saved groupPageState
	if st != nil && !s.full {
		var err error
		if etag, err = st.Get(ctx, scope, "etag"); err != nil {
			return nil, 0, err
		}
		b, err := st.Get(ctx, scope, "paths")
		if err != nil {
			return nil, 0, err
		}
		if b == "" || json.Unmarshal([]byte(b), &saved) != nil {
			etag = ""
		}
	}
	opt := &gl.ListGroupProjectsOptions{
		ListOptions:      gl.ListOptions{PerPage: s.perPage, Page: page},
		Archived:         gl.Ptr(false),
		IncludeSubGroups: gl.Ptr(*s.cfg.Subgroups),
		OrderBy:          gl.Ptr("path"),
		Sort:             gl.Ptr("asc"),
		Simple:           gl.Ptr(true),
	}
	var items []struct {
		Path     string `json:"path_with_namespace"`
		Archived bool   `json:"archived"`
	}
	resp, err := s.get(ctx, "group "+group, "groups/"+gl.PathEscape(group)+"/projects", opt, etag, &items)
	if errors.Is(err, errNotModified) {
		return saved.Paths, saved.Next, nil
	}
	if err != nil {
		return nil, 0, err
	}
	cur := groupPageState{Next: resp.NextPage}
	for _, it := range items {
		if !it.Archived && it.Path != "" {
			cur.Paths = append(cur.Paths, it.Path)
		}
	}
	if st != nil {
		b, _ := json.Marshal(cur)
		if err := setIfChanged(ctx, st, st.DB, scope, "paths", string(b)); err != nil {
			return nil, 0, err
		}
		if err := setIfChanged(ctx, st, st.DB, scope, "etag", resp.Header.Get("ETag")); err != nil {
			return nil, 0, err
		}
	}
	return cur.Paths, cur.Next, nil
}

// setIfChanged stores a state value only when it differs from the stored
// one, so that a run with nothing new writes nothing.
func setIfChanged(ctx context.Context, st *ingest.State, ex ingest.Execer, scope, key, value string) error {
	// Read through ex: inside a transaction the database may have no other
	// connection to give.
	var old sql.NullString
	err := ex.QueryRowContext(ctx, `SELECT value FROM source_state WHERE source = ? AND scope = ? AND key = ?`,
		st.Source, scope, key).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err == nil && old.Valid && old.String == value {
		return nil
	}
	return st.Set(ctx, ex, scope, key, value)
}

// errNotModified is returned by get when the ETag still matches.
var errNotModified = errors.New("not modified")

// notFoundError is a 404 for a project or group: the run names it and goes
// on with the others.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// get sends one GET through the client to the API path (relative to
// /api/v4) with the query of opt (a client-go options struct), more
// request options (the next page, updated_after) and, when etag is set,
// If-None-Match. It decodes the body into v and returns errNotModified on
// 304. what names the project for error messages.
func (s *Source) get(ctx context.Context, what, p string, opt any, etag string, v any, more ...gl.RequestOptionFunc) (*gl.Response, error) {
	ro := append([]gl.RequestOptionFunc{gl.WithContext(ctx)}, more...)
	if etag != "" {
		ro = append(ro, gl.WithHeader("If-None-Match", etag))
	}
	req, err := s.client.NewRequest(http.MethodGet, p, opt, ro)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %s: %w", what, err)
	}
	return s.do(req, what, p, v)
}

func (s *Source) do(req *retryablehttp.Request, what, p string, v any) (*gl.Response, error) {
	resp, err := s.client.Do(req, v)
	if resp != nil && resp.StatusCode == http.StatusNotModified {
		return resp, errNotModified
	}
	if err != nil {
		return resp, s.explain(what, p, resp, err)
	}
	return resp, nil
}

// explain turns an API failure into an error naming the project and what
// to check. Remote text is scrubbed of the token.
func (s *Source) explain(what, p string, resp *gl.Response, err error) error {
	if apihttp.IsRateLimited(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	where := "GET " + strings.TrimSuffix(s.cfg.URL, "/") + "/api/v4/" + strings.TrimPrefix(p, "/")
	if resp == nil || resp.Response == nil {
		return fmt.Errorf("gitlab: %s: %s: %s", what, where, ingest.Scrub(err.Error(), s.token))
	}
	msg := ingest.Scrub(apiMessage(err), s.token)
	if resp.StatusCode < 300 {
		return fmt.Errorf("gitlab: %s: the answer of %s is not the JSON expected: %s", what, where, msg)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("gitlab: %s: 401 Unauthorized from %s: check that $%s holds a valid, unexpired token for %s with the read_api scope", what, where, s.cfg.TokenEnv, s.cfg.URL)
	case http.StatusForbidden:
		return fmt.Errorf("gitlab: %s: 403 Forbidden from %s: the token in $%s lacks permission: it needs the read_api scope and at least Reporter access to the project (GitLab said: %s)", what, where, s.cfg.TokenEnv, msg)
	case http.StatusNotFound:
		return &notFoundError{fmt.Sprintf("404 Not Found from %s", where)}
	}
	return fmt.Errorf("gitlab: %s: %d from %s: %s", what, resp.StatusCode, where, msg)
}

func apiMessage(err error) string {
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return err.Error()
}

// rawList decodes a JSON array into its elements, kept as received.
type rawList []json.RawMessage
