// Package server is `shiplog serve`: the long-running process that owns the
// warehouse file and serves everyone else. It runs the configured schedules
// (ingest, transform, reports), accepts pushed events and GitHub webhooks,
// renders live dashboards, exposes Prometheus metrics and answers read-only
// SQL over Arrow Flight SQL.
//
// DuckDB lets one process hold a file for writing; inside that process many
// connections may read while one writes. The server serialises every write
// (scheduled jobs and webhooks) behind one mutex so that a webhook never
// races an ingest for the same rows, and queries read committed data.
package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/shiplog/shiplog/internal/access"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Job is a scheduled task: a source's sync, the transform or the report
// refresh.
type Job struct {
	// Name is the key under `schedules:` in shiplog.yaml.
	Name string
	// Ingest marks source syncs: after each successful one the server runs
	// the "transform" job, if there is one.
	Ingest bool
	// Run does the work. It returns how many rows it wrote (for /metrics).
	// It must stop promptly, leaving the warehouse consistent, when ctx ends.
	Run func(ctx context.Context) (rows int64, err error)
}

// EventSink stores canonical events (JSON Lines) pushed to /api/v1/events
// and returns how many records it stored. It is called with the write lock
// held and must be idempotent: the same records twice leave the warehouse
// unchanged.
type EventSink func(ctx context.Context, body io.Reader, deliveryID string) (int64, error)

// GitHubSink stores one GitHub webhook delivery (event name from
// X-GitHub-Event and the raw JSON body).
type GitHubSink func(ctx context.Context, event string, body []byte, deliveryID string) (int64, error)

// GitLabSink stores one GitLab webhook delivery (event name from
// X-Gitlab-Event and the raw JSON body).
type GitLabSink func(ctx context.Context, event string, body []byte, deliveryID string) (int64, error)

// Dashboards renders the dashboard specs with current data.
type Dashboards interface {
	// List returns the names and titles of the dashboards.
	List() []DashboardInfo
	// Render writes one dashboard as a complete HTML page. assetsURL is where
	// the page should load its scripts from.
	Render(ctx context.Context, name, assetsURL string, w io.Writer) error
	// Asset returns a static asset (the ECharts script) by file name.
	Asset(name string) ([]byte, bool)
}

// DashboardInfo names one dashboard.
type DashboardInfo struct {
	Name  string
	Title string
}

// Options are the server's dependencies.
type Options struct {
	DB     *warehouse.DB
	Config *config.Config
	Getenv func(string) string
	Log    io.Writer
	Clock  clockwork.Clock // nil: the real clock

	Jobs   []Job
	Events EventSink
	// EventGroups, when set, takes /api/v1/events instead of Events:
	// queued deliveries are committed together (push.go).
	EventGroups EventGroupSink
	// PushGroupMax bounds the deliveries of one group commit (0: 64; 1
	// commits each delivery on its own).
	PushGroupMax int
	GitHub       GitHubSink
	GitLab       GitLabSink
	Dashboards   Dashboards
	// PagerDuty and CDEvents receive /webhooks/pagerduty and
	// /api/v1/cdevents (nil: not accepted).
	PagerDuty *PagerDutyWebhooks
	CDEvents  CDEventsSink
	// CDEventGroups, when set, stores the deliveries CDEvents checked:
	// queued deliveries are committed together (push.go).
	CDEventGroups CDEventsGroupSink
	// API answers the read API under /api/v1/ (nil: every route 501).
	API *ReadAPI
	// DORAGauges, when set and serve.dora_gauges is on, computes the
	// current period's DORA metrics per team at each /metrics scrape.
	DORAGauges func(ctx context.Context) ([]TeamGauges, error)
	// PageScripts are the Content-Security-Policy sources ('sha256-…') of
	// the inline scripts dashboard pages may run (reports.InlineScriptHashes).
	PageScripts []string

	// HTTPListener and FlightListener, when set, replace listening on the
	// configured addresses (tests pass ":0" listeners).
	HTTPListener   net.Listener
	FlightListener net.Listener
	// Jitter caps the random delay before each scheduled run (0: none).
	Jitter time.Duration
}

// Server is a running `shiplog serve`.
type Server struct {
	opts    Options
	clock   clockwork.Clock
	writeMu sync.Mutex
	metrics *promMetrics
	token   string
	// tokens are serve.tokens by the SHA-256 hex of the token.
	tokens map[string]access.Token
	secret []byte
	local  bool // HTTP bound to loopback only

	// gitlabToken is the secret token GitLab sends in X-Gitlab-Token
	// (sources.gitlab.webhook_token_env).
	gitlabToken []byte

	httpSrv *http.Server
	httpLn  net.Listener
	flight  *flightServer
	sched   *scheduler

	// The committers of pushes and of CDEvents deliveries (push.go),
	// each started on its endpoint's first delivery, stopped by shutdown.
	pushes, cdGroups *committer
	pushStop         chan struct{}
	jobByName        map[string]Job
}

// New checks the configuration and prepares the server; Run starts it.
func New(opts Options) (*Server, error) {
	if opts.DB == nil || opts.Config == nil {
		return nil, errors.New("serve: a warehouse and a configuration are required")
	}
	if opts.Getenv == nil {
		return nil, errors.New("serve: Getenv is required")
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	cfg := opts.Config.Serve
	s := &Server{
		opts:      opts,
		clock:     clock,
		metrics:   newPromMetrics(),
		jobByName: map[string]Job{},
		pushes:    newCommitter("events"),
		cdGroups:  newCommitter("cdevents"),
		pushStop:  make(chan struct{}),
	}
	s.pushes.store = func(ctx context.Context, group []*pushReq, record func(ctx context.Context, conn *sql.Conn) error) error {
		ds := make([]PushDelivery, len(group))
		for i, req := range group {
			ds[i] = req.PushDelivery
		}
		return s.opts.EventGroups(ctx, ds, record)
	}
	s.cdGroups.store = func(ctx context.Context, group []*pushReq, record func(ctx context.Context, conn *sql.Conn) error) error {
		ds := make([]*CDEventsDelivery, len(group))
		for i, req := range group {
			ds[i] = req.cd
		}
		return s.opts.CDEventGroups(ctx, ds, func(ctx context.Context, conn *sql.Conn, news []int64) error {
			for i, req := range group {
				req.records = news[i]
			}
			return record(ctx, conn)
		})
	}
	if cfg.TokenEnv != "" {
		s.token = opts.Getenv(cfg.TokenEnv)
	}
	s.tokens = cfg.AccessTokens()
	if cfg.DORAGauges && opts.DORAGauges != nil {
		s.metrics.reg.MustRegister(newDORACollector(opts.DORAGauges, opts.Log))
	}
	if cfg.WebhookSecretEnv != "" {
		s.secret = []byte(opts.Getenv(cfg.WebhookSecretEnv))
	}
	if g := opts.Config.Sources.GitLab; g != nil && g.WebhookTokenEnv != "" {
		s.gitlabToken = []byte(opts.Getenv(g.WebhookTokenEnv))
	}
	for _, j := range opts.Jobs {
		s.jobByName[j.Name] = j
	}
	for name := range opts.Config.Schedules {
		if _, ok := s.jobByName[name]; !ok {
			return nil, fmt.Errorf("serve: schedules.%s: no such job (known: %s)", name, jobNames(opts.Jobs))
		}
	}
	return s, nil
}

// Run serves until ctx ends, then stops accepting work, lets a running job
// finish or abort at its next safe point, and closes the listeners. The
// caller closes the warehouse afterwards (which checkpoints it).
func (s *Server) Run(ctx context.Context) error {
	if err := s.listen(); err != nil {
		return err
	}
	sched, err := newScheduler(s)
	if err != nil {
		s.closeListeners()
		return err
	}
	s.sched = sched

	errc := make(chan error, 2)
	go func() {
		if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve: http: %w", err)
		}
	}()
	if s.flight != nil {
		go func() {
			if err := s.flight.serve(); err != nil {
				errc <- fmt.Errorf("serve: flight sql: %w", err)
			}
		}()
	}
	sched.start()
	fmt.Fprintf(s.opts.Log, "serve: http on %s", s.httpLn.Addr())
	if s.flight != nil {
		fmt.Fprintf(s.opts.Log, ", flight sql on %s", s.flight.addr())
	}
	fmt.Fprintln(s.opts.Log)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	fmt.Fprintln(s.opts.Log, "serve: stopping: finishing or aborting the running job")
	s.shutdown()
	return runErr
}

// HTTPAddr is the address the HTTP server listens on (after Run started).
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// FlightAddr is the address of the Flight SQL endpoint, or "" if off.
func (s *Server) FlightAddr() string {
	if s.flight == nil {
		return ""
	}
	return s.flight.addr()
}

func (s *Server) listen() error {
	cfg := s.opts.Config.Serve
	ln := s.opts.HTTPListener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("serve: listen %s: %w", cfg.Listen, err)
		}
	}
	s.httpLn = ln
	s.local = isLoopback(ln.Addr())
	if !s.local && s.token == "" && len(s.tokens) == 0 {
		ln.Close()
		return fmt.Errorf("serve: listen %s is not a loopback address, so every endpoint needs a token: set the variable %s or list serve.tokens", ln.Addr(), cfg.TokenEnv)
	}
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout.D(), 10*time.Second),
		ReadTimeout:       orDefault(cfg.ReadTimeout.D(), time.Minute),
		WriteTimeout:      orDefault(cfg.WriteTimeout.D(), 5*time.Minute),
		IdleTimeout:       orDefault(cfg.IdleTimeout.D(), 2*time.Minute),
	}

	fln := s.opts.FlightListener
	if fln == nil && cfg.FlightSQL != "" {
		var err error
		if fln, err = net.Listen("tcp", cfg.FlightSQL); err != nil {
			ln.Close()
			return fmt.Errorf("serve: listen %s (flight_sql): %w", cfg.FlightSQL, err)
		}
	}
	if fln != nil {
		if s.token == "" && len(s.tokens) == 0 && !isLoopback(fln.Addr()) {
			ln.Close()
			fln.Close()
			return fmt.Errorf("serve: flight_sql %s is not a loopback address, so it needs a token: set the variable %s or list serve.tokens", fln.Addr(), cfg.TokenEnv)
		}
		var check func(string) error
		if s.token != "" || len(s.tokens) > 0 {
			check = s.flightCheck
		}
		f, err := newFlightServer(s.opts.DB, check, fln, newQueryLimits(cfg.QueryTimeout.D(), cfg.MaxQueries))
		if err != nil {
			ln.Close()
			fln.Close()
			return err
		}
		f.onQuery = func(ok bool) {
			status := "ok"
			if !ok {
				status = "refused"
			}
			s.metrics.flightQuerys.WithLabelValues(status).Inc()
		}
		s.flight = f
	}
	return nil
}

func (s *Server) closeListeners() {
	s.httpLn.Close()
	if s.flight != nil {
		s.flight.stop()
	}
}

func (s *Server) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.sched != nil {
		s.sched.stop()
	}
	_ = s.httpSrv.Shutdown(ctx)
	close(s.pushStop)
	if s.flight != nil {
		s.flight.stop()
	}
	// Wait for any write in progress (a webhook) to finish.
	s.writeMu.Lock()
	s.writeMu.Unlock() //nolint:staticcheck // an empty critical section: waits for the writer

}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func jobNames(jobs []Job) string {
	s := ""
	for i, j := range jobs {
		if i > 0 {
			s += ", "
		}
		s += j.Name
	}
	if s == "" {
		return "none"
	}
	return s
}
