// Package github is the GitHub source: it pulls pull requests (with their
// commits, reviews and, for monorepos, files), deployments with their
// statuses, releases and deploy workflow runs from the GitHub REST API into
// raw_github_* tables, and maps them to the canonical deployments, changes
// and commits with SQL (see README.md for the rules).
//
// Every list is read incrementally: pull requests newest-updated first down
// to the last run's cursor, deployments and workflow runs down to the last
// seen id, with the ETag of the first page so that an unchanged list costs a
// 304 (free of rate limit). Rows are committed per pull request or per page,
// and a cursor is saved only with the rows it covers, so an interrupted run
// resumes without gaps or duplicates.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/apihttp"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Name is the source's name in ingest_runs and the canonical source column.
const Name = "github"

var (
	_ ingest.Source = (*Source)(nil)
	_ ingest.Mapper = (*Source)(nil)
)

// Source pulls from one GitHub (public or Enterprise Server) API.
type Source struct {
	cfg      config.GitHub
	token    string
	client   *gh.Client
	tr       *apihttp.Transport
	mu       sync.Mutex // guards stats
	stats    Stats
	perPage  int
	prodName string
	progress io.Writer
	now      func() time.Time
}

// Option changes how a Source works; tests and the command use them.
type Option func(*Source)

// WithHTTPClient sets the client whose transport carries the requests
// (default http.DefaultTransport).
func WithHTTPClient(c *http.Client) Option {
	return func(s *Source) {
		if c.Transport != nil {
			s.tr.Base = c.Transport
		}
	}
}

// WithSleep replaces the wait used for backoff and rate limits (tests make
// it instant and record the delays).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(s *Source) { s.tr.Sleep = f }
}

// WithBackoff sets the retry policy for 5xx, network errors and bare 429s.
func WithBackoff(b ingest.Backoff) Option { return func(s *Source) { s.tr.Backoff = b } }

// WithNoWait stops at an exhausted rate limit instead of waiting.
func WithNoWait(v bool) Option { return func(s *Source) { s.tr.NoWait = v } }

// WithMaxWait caps one rate-limit wait (0 = no cap).
func WithMaxWait(d time.Duration) Option { return func(s *Source) { s.tr.MaxWait = d } }

// WithPerPage sets the page size asked for (default 100, the API's maximum).
func WithPerPage(n int) Option { return func(s *Source) { s.perPage = n } }

// WithProgress sets where waits and per-repository progress are written.
func WithProgress(w io.Writer) Option {
	return func(s *Source) { s.progress = w; s.tr.Progress = w }
}

// WithClock sets the clock used for rate-limit resets and fetched_at.
func WithClock(now func() time.Time) Option {
	return func(s *Source) { s.now = now; s.tr.Now = now }
}

// WithProductionName sets the canonical environment name given to the
// environments listed in deployments.production_environments, to releases
// and to deploy workflow runs (default "production"; it should be one of
// metrics.production_environments).
func WithProductionName(name string) Option { return func(s *Source) { s.prodName = name } }

// New checks cfg and builds a Source. The token is read with getenv from the
// variable named by cfg.TokenEnv (default GITHUB_TOKEN), or from
// cfg.TokenFile; without one, requests go out unauthenticated (public
// repositories, low rate limit). getenv may be nil, for a Source used only
// as an ingest.Mapper.
func New(cfg *config.GitHub, getenv func(string) string, opts ...Option) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("github: no sources.github section in the configuration")
	}
	c := *cfg
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if getenv == nil {
		// Mapping (`shiplog transform`) needs no token.
		getenv = func(string) string { return "" }
	}
	token := strings.TrimSpace(getenv(c.TokenEnv))
	if token == "" && c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("github: token_file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	s := &Source{
		cfg:      c,
		token:    token,
		perPage:  100,
		prodName: "production",
		progress: io.Discard,
		now:      time.Now,
	}
	s.stats.Rows = map[string]int64{}
	s.tr = apihttp.New(limits)
	s.tr.NoWait = c.NoWait
	for _, o := range opts {
		o(s)
	}
	base, err := url.Parse(c.APIURL)
	if err != nil {
		return nil, fmt.Errorf("github: api_url: %w", err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if token != "" {
		// The token goes to api_url's origin only: a redirect elsewhere
		// (another host, port or scheme) is followed without it.
		s.tr.Base = &ingest.Credentials{Base: s.tr.Base, Origin: base, Set: func(h http.Header) {
			h.Set("Authorization", "Bearer "+token)
		}}
	}
	s.client = gh.NewClient(&http.Client{Transport: s.tr})
	s.client.BaseURL = base
	s.client.UploadURL = base
	return s, nil
}

// Name returns "github".
func (s *Source) Name() string { return Name }

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
	return out
}

// Target describes what a run reads, for ingest_runs.target.
func (s *Source) Target() string {
	parts := append([]string{}, s.cfg.Repos...)
	if s.cfg.Org != "" {
		parts = append(parts, "org:"+s.cfg.Org)
	}
	return strings.Join(parts, ",")
}

// Sync fetches what changed in every configured repository into the raw
// tables, then maps raw to canonical. When the rate limit is exhausted and
// the source was told not to wait, it stops cleanly: Sync returns nil,
// Stats().Partial is true and the cursors of finished work are saved.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	if env.Now != nil {
		s.now = env.Now
	}
	if env.Progress != nil && s.progress == io.Discard {
		s.progress = env.Progress
		s.tr.Progress = env.Progress
	}
	st := env.State
	if st == nil {
		st = &ingest.State{DB: env.DB, Source: Name, Now: s.now}
	}
	r := &repoSync{s: s, db: env.DB, state: st}
	repos, err := s.repos(ctx, st)
	if err == nil {
		for i, repo := range repos {
			fmt.Fprintf(s.progress, "github: [%d/%d] %s\n", i+1, len(repos), repo)
			if err = r.sync(ctx, repo); err != nil {
				break
			}
		}
	}
	if err != nil {
		if apihttp.IsRateLimited(err) {
			s.mu.Lock()
			s.stats.Partial = true
			s.mu.Unlock()
			fmt.Fprintln(s.progress, rateLimitedMessage(err))
		} else {
			return err
		}
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
	return s.Map(ctx, env.DB)
}

func rateLimitedMessage(err error) string {
	var rl *RateLimitedError
	errors.As(err, &rl)
	return rl.Error() + "; cursors of finished work are saved, run again after the reset to continue"
}

// repos returns the configured repositories plus those of the org that
// pass include/exclude, sorted and without duplicates. Each page of the
// org's list is asked for with its own ETag (kept with the page's names in
// st), so an unchanged list costs only 304s. st may be nil (no caching).
func (s *Source) repos(ctx context.Context, st *ingest.State) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, r := range s.cfg.Repos {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if s.cfg.Org != "" {
		for page := 1; page != 0; {
			names, next, err := s.orgPage(ctx, st, page)
			if err != nil {
				return nil, err
			}
			for _, full := range names {
				_, name, _ := strings.Cut(full, "/")
				if s.selected(name) && !seen[full] {
					seen[full] = true
					out = append(out, full)
				}
			}
			page = next
		}
	}
	sort.Strings(out)
	return out, nil
}

type orgPageState struct {
	Names []string `json:"names"`
	Next  int      `json:"next"`
}

func (s *Source) orgPage(ctx context.Context, st *ingest.State, page int) ([]string, int, error) {
	scope := fmt.Sprintf("org:%s/repos/page/%d", s.cfg.Org, page)
	var etag string
	var saved orgPageState
	if st != nil {
		var err error
		if etag, err = st.Get(ctx, scope, "etag"); err != nil {
			return nil, 0, err
		}
		b, err := st.Get(ctx, scope, "names")
		if err != nil {
			return nil, 0, err
		}
		if b == "" || json.Unmarshal([]byte(b), &saved) != nil {
			etag = ""
		}
	}
	var items []struct {
		FullName string `json:"full_name"`
	}
	resp, err := s.get(ctx, "org "+s.cfg.Org, fmt.Sprintf("orgs/%s/repos", url.PathEscape(s.cfg.Org)),
		url.Values{"type": {"all"}, "sort": {"full_name"}, "page": {fmt.Sprint(page)}}, etag, &items)
	if errors.Is(err, errNotModified) {
		return saved.Names, saved.Next, nil
	}
	if err != nil {
		return nil, 0, err
	}
	cur := orgPageState{Next: resp.NextPage}
	for _, it := range items {
		cur.Names = append(cur.Names, it.FullName)
	}
	if st != nil {
		b, _ := json.Marshal(cur)
		if err := st.Set(ctx, st.DB, scope, "names", string(b)); err != nil {
			return nil, 0, err
		}
		if err := st.Set(ctx, st.DB, scope, "etag", resp.Header.Get("ETag")); err != nil {
			return nil, 0, err
		}
	}
	return cur.Names, cur.Next, nil
}

func (s *Source) selected(name string) bool {
	ok := len(s.cfg.Include) == 0
	for _, p := range s.cfg.Include {
		if m, _ := path.Match(p, name); m {
			ok = true
		}
	}
	for _, p := range s.cfg.Exclude {
		if m, _ := path.Match(p, name); m {
			ok = false
		}
	}
	return ok
}

// errNotModified is returned by get when the ETag still matches.
var errNotModified = errors.New("not modified")

// get sends one GET to the API path (relative to api_url) with the query and,
// when etag is set, If-None-Match. It decodes the body into v and returns
// errNotModified on 304. what names the repository for error messages.
func (s *Source) get(ctx context.Context, what, p string, q url.Values, etag string, v any) (*gh.Response, error) {
	if q == nil {
		q = url.Values{}
	}
	if q.Get("per_page") == "" {
		q.Set("per_page", fmt.Sprint(s.perPage))
	}
	req, err := s.client.NewRequest(http.MethodGet, p+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("github: %s: %w", what, err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := s.client.Do(ctx, req, v)
	if resp != nil && resp.StatusCode == http.StatusNotModified {
		return resp, errNotModified
	}
	if err != nil {
		return resp, s.explain(what, p, resp, err)
	}
	return resp, nil
}

// explain turns an API failure into an error naming the repository and
// what to check. The token is never part of it, even when the API echoed
// it in its answer (ingest.ScrubError).
func (s *Source) explain(what, p string, resp *gh.Response, err error) error {
	return ingest.ScrubError(s.explainRaw(what, p, resp, err), s.token)
}

func (s *Source) explainRaw(what, p string, resp *gh.Response, err error) error {
	if apihttp.IsRateLimited(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	where := fmt.Sprintf("GET %s%s", s.client.BaseURL, p)
	if resp == nil {
		return fmt.Errorf("github: %s: %s: %w", what, where, err)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("github: %s: 401 Unauthorized from %s: check that $%s holds a valid, unexpired token for %s", what, where, s.cfg.TokenEnv, s.cfg.APIURL)
	case http.StatusNotFound:
		return fmt.Errorf("github: %s: 404 Not Found from %s: check the repository name, that the token in $%s can read it (classic tokens need the repo scope for private repositories; fine-grained tokens need read access to pull requests, deployments, contents and actions), and that api_url (%s) is the right server", what, where, s.cfg.TokenEnv, s.cfg.APIURL)
	case http.StatusForbidden:
		return fmt.Errorf("github: %s: 403 Forbidden from %s: the token in $%s lacks permission (scopes, SSO authorisation for the org): %s", what, where, s.cfg.TokenEnv, apiMessage(err))
	}
	return fmt.Errorf("github: %s: %d from %s: %s", what, resp.StatusCode, where, apiMessage(err))
}

func apiMessage(err error) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return err.Error()
}

// rawList decodes a JSON array into its elements, kept as received.
type rawList []json.RawMessage

// Ingest is one whole recorded run (ingest.Run), for `shiplog ingest
// github`: success, partial (stopped at the rate limit with --no-wait) or
// failed with the error's text.
func (s *Source) Ingest(ctx context.Context, db *warehouse.DB, progress io.Writer) (*ingest.RunRecord, error) {
	return ingest.Run(ctx, s, &ingest.Env{DB: db, Progress: progress, Now: s.now})
}
