// Package jira is the Jira source: incidents, change requests (with their
// approvals), support tickets and fix versions (release plans) kept in Jira
// Cloud or Jira Data Center, read through the REST API v2.
//
// Sync stores issues as received in raw_jira_issues (one row per section
// and issue key), full changelogs in raw_jira_changelogs when the one
// embedded in the search answer was cut short, and versions in
// raw_jira_versions. Map then rebuilds the rows WHERE source = 'jira' of
// incidents, change_requests, approvals, support_tickets and release_plans
// with the SQL files in sql/, so a changed mapping rule is re-run by
// `shiplog transform` without fetching again.
package jira

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
)

// Name is the source's name in ingest_runs and the canonical source column.
const Name = "jira"

// DefaultOverlap is how far before the saved cursor an incremental sync
// starts again. JQL compares `updated` to the minute, and an issue edited
// while the previous run was paging may carry a time just before that run's
// last one; re-reading a few minutes costs little because writes replace
// rows by issue key.
const DefaultOverlap = 5 * time.Minute

// DefaultPageSize is the number of issues asked for per search request.
const DefaultPageSize = 100

var (
	_ ingest.Source = (*Source)(nil)
	_ ingest.Mapper = (*Source)(nil)
)

// Source syncs one Jira site.
type Source struct {
	cfg    *config.Jira
	client *client
	full   bool
	since  time.Time

	httpClient *http.Client
	tokenErr   error

	// Gone lists issues found missing by the last full sync ("OPS-3 deleted").
	Gone []string
}

// Option changes how a Source works; tests use them to inject a server and
// a clock-free sleep.
type Option func(*Source)

// WithHTTPClient sends requests through hc; its transport is wrapped with
// the authentication.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *Source) { s.httpClient = hc }
}

// WithBackoff sets the retry policy of 429 and 5xx answers.
func WithBackoff(b ingest.Backoff) Option { return func(s *Source) { s.client.backoff = b } }

// WithSleep replaces the wait between retries (tests pass one that only
// records the delays).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(s *Source) { s.client.sleep = f }
}

// WithFull makes Sync ignore the saved cursors, fetch every matching issue
// and report (and stop mapping) the stored issues no longer found.
func WithFull(full bool) Option { return func(s *Source) { s.full = full } }

// WithSince makes Sync fetch issues updated at or after t, whatever the
// saved cursor says.
func WithSince(t time.Time) Option { return func(s *Source) { s.since = t } }

// New checks cfg and returns a Source. getenv reads the token named by
// cfg.TokenEnv; the token itself is kept only inside the HTTP transport. A
// missing token is reported by Sync, not here, so that `shiplog transform`
// can use the Source as an ingest.Mapper with getenv nil.
func New(cfg *config.Jira, getenv func(string) string, opts ...Option) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("jira: not configured: add sources.jira to shiplog.yaml or pass --url and a JQL flag")
	}
	c := *cfg
	if c.Flavor == "" {
		c.Flavor = "datacenter"
		if strings.HasSuffix(hostOf(c.URL), ".atlassian.net") {
			c.Flavor = "cloud"
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Overlap == 0 {
		c.Overlap = config.Duration(DefaultOverlap)
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	s := &Source{cfg: &c, client: &client{
		base: c.URL, flavor: c.Flavor, user: c.User, tokenEnv: c.TokenEnv,
		backoff: ingest.DefaultBackoff, sleep: ingest.Sleep,
	}}
	for _, o := range opts {
		o(s)
	}
	token := ""
	if c.TokenEnv != "" {
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		token = getenv(c.TokenEnv)
		if token == "" {
			// Not fatal here: Map (`shiplog transform`) needs no token.
			s.tokenErr = fmt.Errorf("jira: $%s is empty: set it to the API token (Cloud) or personal access token (Data Center)", c.TokenEnv)
		}
	}
	base := http.DefaultTransport
	if s.httpClient != nil && s.httpClient.Transport != nil {
		base = s.httpClient.Transport
	}
	hc := &http.Client{Transport: base, Timeout: 2 * time.Minute}
	if token != "" {
		origin, err := url.Parse(c.URL)
		if err != nil {
			return nil, fmt.Errorf("jira: url %q: %w", c.URL, err)
		}
		// The credential goes to the configured site's origin only: a
		// redirect to another host is followed without it.
		user := c.User
		hc.Transport = &ingest.Credentials{Base: base, Origin: origin, Set: func(h http.Header) {
			if user != "" {
				h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+token)))
			} else {
				h.Set("Authorization", "Bearer "+token)
			}
		}}
		s.client.secrets = []string{token, base64.StdEncoding.EncodeToString([]byte(user + ":" + token))}
	}
	jc, err := gojira.NewClient(hc, c.URL)
	if err != nil {
		return nil, fmt.Errorf("jira: url %q: %w", c.URL, err)
	}
	s.client.jc = jc
	return s, nil
}

func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexAny(u, "/:"); i >= 0 {
		u = u[:i]
	}
	return strings.ToLower(u)
}

// Name returns "jira".
func (s *Source) Name() string { return Name }

// Config returns the configuration in use, defaults applied.
func (s *Source) Config() *config.Jira { return s.cfg }

// Requests returns how many HTTP requests the source has sent, retries
// included.
func (s *Source) Requests() int64 { return s.client.requests }

// Target describes what is read, for ingest_runs.target.
func (s *Source) Target() string {
	var parts []string
	for _, sec := range s.sections() {
		parts = append(parts, sec.name)
	}
	if s.cfg.Releases != nil {
		parts = append(parts, "releases "+strings.Join(s.cfg.Releases.Projects, ","))
	}
	return s.cfg.URL + " (" + strings.Join(parts, ", ") + ")"
}

// section is one JQL-selected group of issues.
type section struct {
	name string // incidents, change_requests, support_tickets
	jql  string
}

func (s *Source) sections() []section {
	var out []section
	if s.cfg.Incidents != nil {
		out = append(out, section{"incidents", s.cfg.Incidents.JQL})
	}
	if s.cfg.ChangeRequests != nil {
		out = append(out, section{"change_requests", s.cfg.ChangeRequests.JQL})
	}
	if s.cfg.SupportTickets != nil {
		out = append(out, section{"support_tickets", s.cfg.SupportTickets.JQL})
	}
	return out
}
