// Package pagerduty is the PagerDuty source: incidents with their priority
// and urgency from the REST API v2, and each incident's log entries for the
// time it was first acknowledged and resolved.
//
// Sync stores incidents as received in raw_pagerduty_incidents and their
// log entries in raw_pagerduty_log_entries; StoreWebhook stores v3 webhook
// events (incident.triggered, acknowledged, resolved) into the same tables.
// Map then rebuilds the incidents WHERE source = 'pagerduty' with the SQL in
// sql/, so a changed mapping rule (services, severity) is re-run by
// `shiplog transform` without fetching again.
//
// The client is a small typed net/http client rather than
// github.com/PagerDuty/go-pagerduty (which the module proxy serves): the
// library decodes answers into its structs, so the raw tables could not
// keep what PagerDuty sent; it sets the Authorization header itself on
// every request, outside ingest.Credentials' rule that the token only goes
// to the configured origin; and it neither retries 5xx answers nor waits
// for ratelimit-reset on a 429.
package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Name is the source's name in ingest_runs and the canonical source column.
const Name = "pagerduty"

// Window is the longest since–until range asked for at once: PagerDuty
// refuses ranges over 6 months.
const Window = 180 * 24 * time.Hour

// maxOffset is the end of PagerDuty's offset paging (offset + limit may not
// pass 10,000); a longer result is read on from the last creation time.
var maxOffset = 10000

var (
	_ ingest.Source = (*Source)(nil)
	_ ingest.Mapper = (*Source)(nil)
)

// Source syncs the incidents of one PagerDuty account.
type Source struct {
	cfg      config.PagerDuty
	client   *client
	full     bool
	since    time.Time
	window   time.Duration
	workers  int
	now      func() time.Time
	progress io.Writer
	tokenErr error
	stats    Stats
}

// Stats is what the last run read and cost.
type Stats struct {
	Incidents  int64 // incidents read
	LogEntries int64 // log entries read
	Requests   int64 // HTTP requests, retries included
	Retries    int64 // 5xx and network retries
	RateWaits  int64 // waits after a 429
}

// Option changes how a Source works; tests and the command use them.
type Option func(*Source)

// WithHTTPClient sends the requests through hc's transport (wrapped with
// the credential); tests point it at a fake server.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *Source) {
		if hc != nil && hc.Transport != nil {
			s.client.hc.Transport.(*ingest.Credentials).Base = hc.Transport
		}
	}
}

// WithBackoff sets the retry policy of 5xx answers and network errors.
func WithBackoff(b ingest.Backoff) Option { return func(s *Source) { s.client.backoff = b } }

// WithSleep replaces the wait between retries and after a 429 (tests pass
// one that only records the delays).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(s *Source) { s.client.sleep = f }
}

// WithClock sets the clock of fetched_at and the run's end of range.
func WithClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// WithProgress sets where waits and per-window progress are written.
func WithProgress(w io.Writer) Option {
	return func(s *Source) {
		if w != nil {
			s.progress, s.client.progress = w, w
		}
	}
}

// WithFull makes Sync ignore the saved cursor and read from since again.
func WithFull(full bool) Option { return func(s *Source) { s.full = full } }

// WithSince makes Sync read incidents created at or after t, whatever the
// cursor says.
func WithSince(t time.Time) Option { return func(s *Source) { s.since = t } }

// WithWorkers sets how many incidents' log entries are read at once
// (default 4).
func WithWorkers(n int) Option { return func(s *Source) { s.workers = n } }

// WithWindow sets the longest range asked for at once (default Window).
func WithWindow(d time.Duration) Option { return func(s *Source) { s.window = d } }

// New checks cfg and builds a Source. getenv reads the token from the
// variable named by token_env; a missing token is reported by Sync, not
// here, so that `shiplog transform` can use the Source as an ingest.Mapper
// with getenv nil.
func New(cfg *Config, getenv func(string) string, opts ...Option) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("pagerduty: not configured: add sources.pagerduty to shiplog.yaml")
	}
	c := *cfg
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	base, err := url.Parse(c.APIURL)
	if err != nil {
		return nil, fmt.Errorf("pagerduty: api_url: %w", err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	token := strings.TrimSpace(getenv(c.TokenEnv))
	s := &Source{cfg: c, now: time.Now, progress: io.Discard, window: Window}
	if token == "" {
		s.tokenErr = fmt.Errorf("pagerduty: $%s is empty: set it to a PagerDuty REST API key (read-only is enough)", c.TokenEnv)
	}
	s.client = &client{
		hc: &http.Client{Timeout: 2 * time.Minute, Transport: &ingest.Credentials{
			Base:   http.DefaultTransport,
			Origin: base,
			Set:    func(h http.Header) { h.Set("Authorization", "Token token="+token) },
		}},
		base: base, tokenEnv: c.TokenEnv, token: token,
		backoff: ingest.DefaultBackoff, sleep: ingest.Sleep, progress: io.Discard,
		maxRateWaits: 20,
	}
	for _, o := range opts {
		o(s)
	}
	if s.window <= 0 || s.window > Window {
		s.window = Window
	}
	if s.workers < 1 {
		s.workers = 4
	}
	return s, nil
}

// Name returns "pagerduty".
func (s *Source) Name() string { return Name }

// Target describes what is read, for ingest_runs.target.
func (s *Source) Target() string { return strings.TrimRight(s.cfg.APIURL, "/") + "/incidents" }

// Config returns the configuration in use, defaults applied.
func (s *Source) Config() *Config { return &s.cfg }

// Stats returns what the runs so far read and cost.
func (s *Source) Stats() Stats {
	st := s.stats
	st.Requests = s.client.requests.Load()
	st.Retries = s.client.retries.Load()
	st.RateWaits = s.client.rateWaits.Load()
	return st
}

// Ingest is one whole recorded run, for `shiplog ingest pagerduty`,
// `ingest --all` and scheduled runs in `serve`: it starts a row in
// ingest_runs, syncs and maps, and finishes the row as success or failed
// with the error's text.
func (s *Source) Ingest(ctx context.Context, db *warehouse.DB, progress io.Writer) (*ingest.RunRecord, error) {
	return ingest.Run(ctx, s, &ingest.Env{DB: db, Progress: progress, Now: s.now})
}
