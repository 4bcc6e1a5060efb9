// Package serve implements `shiplog serve`: it opens the warehouse for
// writing and runs internal/server with the real sinks, dashboards and jobs.
package serve

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/ingest/all"
	"github.com/shiplog/shiplog/ingest/cdevents"
	"github.com/shiplog/shiplog/ingest/file"
	gitsrc "github.com/shiplog/shiplog/ingest/git"
	"github.com/shiplog/shiplog/ingest/github"
	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	jirasrc "github.com/shiplog/shiplog/ingest/jira"
	"github.com/shiplog/shiplog/ingest/pagerduty"
	"github.com/shiplog/shiplog/internal/cli/report"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/reports"
	"github.com/shiplog/shiplog/transform"
)

// Options are the inputs of `shiplog serve`.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	// WarehouseWith opens the warehouse with the options serve needs: sealed
	// (no file access but the file sources' folders and a private spool
	// folder, configuration locked) and sized by serve.memory_limit and
	// serve.threads. Warehouse, used when WarehouseWith is nil, opens it
	// as it is (tests of other parts).
	WarehouseWith func(context.Context, warehouse.Options) (*warehouse.DB, error)
	Warehouse     func(context.Context) (*warehouse.DB, error)
	Getenv        func(string) string
	Now           func() time.Time

	// Listen and FlightSQL replace serve.listen and serve.flight_sql when
	// set (FlightSQL "off" turns the endpoint off).
	Listen, FlightSQL string
	// RunNow names jobs run once at start, in order, before the schedules
	// take over.
	RunNow []string

	// HTTPListener and FlightListener replace listening on the addresses
	// (tests pass listeners on port 0).
	HTTPListener, FlightListener net.Listener
	// GitHubOptions are added to the GitHub source's options (tests point it
	// at a fake API).
	GitHubOptions []github.Option
}

// NewCmdServe returns the serve command. runF replaces the run function in
// tests of flag parsing.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Config: f.Config, WarehouseWith: f.WarehouseWith, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--flight-sql ADDR] [--run-now JOB]...",
		Short: "Run schedules, webhooks, live dashboards and the query endpoint",
		Long: `Hold the warehouse open for writing and serve everyone else: run the jobs
under schedules: in shiplog.yaml (the configured sources, transform,
reports), accept canonical events on /api/v1/events, CDEvents on
/api/v1/cdevents and GitHub webhooks on /webhooks/github (HMAC-signed with
the secret in serve.webhook_secret_env), GitLab webhooks on /webhooks/gitlab
(X-Gitlab-Token checked against the variable named by
sources.gitlab.webhook_token_env), PagerDuty v3 webhooks on
/webhooks/pagerduty (signed with sources.pagerduty.webhook_secret_env),
render the dashboards under /dashboards/, answer the read API under
/api/v1/ (the JSON of metrics, explain, audit, query and the coverage;
/api/v1/openapi.json describes it), expose /metrics and answer read-only
SQL over Arrow Flight SQL (shiplog query --server). Tokens with scopes
(read, read:teams=…, push, admin) are listed by their SHA-256 under
serve.tokens (shiplog token hash).

Jobs: github, gitlab, jira, pagerduty, cdevents, git, files (each when
configured under sources:),
transform and reports. SIGTERM or SIGINT stops the schedules (a running job
stops at its next safe point), lets an in-flight webhook finish and closes
the warehouse.`,
		Example: `  shiplog serve
  # listening beyond this machine needs a token in SHIPLOG_TOKEN
  shiplog serve --listen 0.0.0.0:8787 --flight-sql 0.0.0.0:8815
  shiplog serve --run-now github --run-now reports`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, j := range opts.RunNow {
				if strings.TrimSpace(j) == "" {
					return cmdutil.FlagErrorf("--run-now needs a job name")
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "HTTP address `HOST:PORT` (default serve.listen)")
	cmd.Flags().StringVar(&opts.FlightSQL, "flight-sql", "", "Arrow Flight SQL address `HOST:PORT`, or off (default serve.flight_sql)")
	cmd.Flags().StringArrayVar(&opts.RunNow, "run-now", nil, "run the job `JOB` once at start (repeatable)")
	return cmd
}

// Run serves until ctx ends (SIGTERM, SIGINT), then closes the warehouse.
func Run(ctx context.Context, opts *Options) (err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	loaded, err := opts.Config()
	if err != nil {
		return err
	}
	cfg := *loaded
	if opts.Listen != "" {
		cfg.Serve.Listen = opts.Listen
	}
	switch opts.FlightSQL {
	case "":
	case "off":
		cfg.Serve.FlightSQL = ""
	default:
		cfg.Serve.FlightSQL = opts.FlightSQL
	}
	stderr := opts.IO.ErrOut

	var db *warehouse.DB
	if opts.WarehouseWith != nil {
		// Pushed bodies and decompressed files wait in a folder of serve's
		// own, the only one DuckDB may use besides the file sources'.
		spool, err := os.MkdirTemp("", "shiplog-spool-")
		if err != nil {
			return fmt.Errorf("serve: spool folder: %w", err)
		}
		defer os.RemoveAll(spool)
		db, err = opts.WarehouseWith(ctx, warehouse.Options{
			Sandbox: true, AllowedDirs: FileSourceDirs(&cfg), SpoolDir: spool,
			MemoryLimit: cfg.Serve.MemoryLimit, Threads: cfg.Serve.Threads,
		})
		if err != nil {
			return err
		}
	} else if db, err = opts.Warehouse(ctx); err != nil {
		return err
	}
	defer func() {
		// Close checkpoints the file.
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close warehouse: %w", cerr)
		}
	}()

	w, err := wire(db, &cfg, opts)
	if err != nil {
		return err
	}
	defer w.pushes.Close() // before the warehouse closes
	known := map[string]bool{}
	for _, j := range w.jobs {
		known[j.Name] = true
	}
	for _, name := range opts.RunNow {
		if !known[name] {
			return cmdutil.FlagErrorf("--run-now %s: no such job (known: %s)", name, jobList(w.jobs))
		}
	}
	srv, err := server.New(server.Options{
		DB: db, Config: &cfg, Getenv: opts.Getenv, Log: stderr,
		Jobs: w.jobs, EventGroups: w.eventGroups, GitHub: w.github, GitLab: w.gitlab, Dashboards: w.dashboards,
		PagerDuty: w.pagerduty, CDEvents: w.cdevents, CDEventGroups: w.cdeventGroups, PageScripts: reports.InlineScriptHashes(),
		API: ReadAPI(db, &cfg, opts.Now), DORAGauges: DORAGauges(db, &cfg, opts.Now),
		HTTPListener: opts.HTTPListener, FlightListener: opts.FlightListener,
		Jitter: cfg.Serve.Jitter.D(),
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if len(opts.RunNow) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, name := range opts.RunNow {
				if runCtx.Err() != nil {
					return
				}
				if err := srv.RunJob(runCtx, name); err == nil && w.ingest[name] && known["transform"] && runCtx.Err() == nil {
					_ = srv.RunJob(runCtx, "transform")
				}
			}
		}()
	}
	err = srv.Run(runCtx)
	cancel()
	wg.Wait()
	fmt.Fprintln(stderr, "serve: stopped; closing the warehouse")
	return err
}

// wired is what serve hands the server.
type wired struct {
	jobs        []server.Job
	ingest      map[string]bool
	eventGroups server.EventGroupSink
	pushes      *file.GroupCommitter // closed when the server has stopped
	github      server.GitHubSink
	gitlab      server.GitLabSink
	dashboards  server.Dashboards
	pagerduty   *server.PagerDutyWebhooks
	cdevents    server.CDEventsSink
	// queued CDEvents deliveries committed together
	cdeventGroups server.CDEventsGroupSink
}

// jobNames maps a source of ingest/all to its job name under schedules:.
var jobNames = map[string]string{"file": "files", gitsrc.SourceName: "git", github.Name: "github", gitlabsrc.Name: "gitlab", jirasrc.Name: "jira"}

func wire(db *warehouse.DB, cfg *config.Config, opts *Options) (*wired, error) {
	stderr := opts.IO.ErrOut
	now := opts.Now
	w := &wired{ingest: map[string]bool{}}
	// The push committer keeps a connection of its own with its
	// statements prepared, for the life of the server.
	w.pushes = file.NewGroupCommitter(db, file.Options{Source: "push", Now: now})
	w.eventGroups = EventGroupSink(w.pushes)

	// One job per configured source, running its runners (every files
	// entry, every git repository) in order, as `shiplog ingest --all` does.
	runners, err := all.Sources(cfg, opts.Getenv, stderr, all.WithClock(now), all.WithGitHubOptions(opts.GitHubOptions...))
	if err != nil {
		return nil, err
	}
	bySource := map[string][]all.Runner{}
	for _, r := range runners {
		bySource[r.Name] = append(bySource[r.Name], r)
	}
	for _, src := range all.Names {
		rs := bySource[src]
		if len(rs) == 0 {
			continue
		}
		name := jobNames[src]
		if name == "" {
			name = src
		}
		w.ingest[name] = true
		w.jobs = append(w.jobs, server.Job{Name: name, Ingest: true, Run: func(ctx context.Context) (int64, error) {
			// The job's rows are the rows its runs wrote, as ingest_runs
			// records them.
			var errs []error
			var written int64
			for _, r := range rs {
				if ctx.Err() != nil {
					break
				}
				run, err := r.Run(ctx, db)
				if run != nil {
					written += run.Written
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", r, err))
				}
			}
			if len(errs) == 0 {
				return written, ctx.Err()
			}
			return written, errors.Join(errs...)
		}})
	}

	// Webhooks go through a GitHub source of their own (no requests: only
	// its mapping settings are used).
	if gh := cfg.Sources.GitHub; gh != nil {
		o := append([]github.Option{github.WithProductionName(productionName(cfg)), github.WithClock(now)}, opts.GitHubOptions...)
		hook, err := github.New(gh, opts.Getenv, o...)
		if err != nil {
			return nil, err
		}
		w.github = GitHubSink(db, hook)
	}

	// PagerDuty webhooks and CDEvents go through sources of their own,
	// whose mapping settings they use; CDEvents are accepted with the
	// defaults when sources.cdevents is absent.
	if p := cfg.Sources.PagerDuty; p != nil {
		hook, err := pagerduty.New(p, nil, pagerduty.WithClock(now))
		if err != nil {
			return nil, err
		}
		w.pagerduty = PagerDutyWebhooks(db, hook, []byte(opts.Getenv(hook.Config().WebhookSecretEnv)))
	}
	cd, err := cdevents.New(cfg.Sources.CDEvents, cdevents.WithClock(now))
	if err != nil {
		return nil, err
	}
	w.cdevents = CDEventsSink(db, cd)
	w.cdeventGroups = CDEventsGroupSink(db, cd)
	if gl := cfg.Sources.GitLab; gl != nil {
		hook, err := gitlabsrc.New(gl, opts.Getenv, gitlabsrc.WithProductionEnvironments(cfg.Metrics.ProductionEnvironments), gitlabsrc.WithClock(now))
		if err != nil {
			return nil, err
		}
		w.gitlab = GitLabSink(db, hook)
	}

	mappers := all.Mappers(cfg, opts.Getenv)
	w.jobs = append(w.jobs, server.Job{Name: "transform", Run: func(ctx context.Context) (int64, error) {
		return 0, transform.Run(ctx, db, cfg, transform.Options{Progress: stderr, Mappers: mappers})
	}})

	dirOf := func(p string) string {
		if p == "" || filepath.IsAbs(p) || cfg.Path == "" {
			return p
		}
		return filepath.Join(filepath.Dir(cfg.Path), p)
	}
	var user []fs.FS
	if dir := dirOf(cfg.Reports.DashboardsDir); dir != "" {
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("reports.dashboards_dir: %s is not a folder", dir)
		}
		user = []fs.FS{os.DirFS(dir)}
	}
	w.dashboards = &dashboardSet{db: db, cfg: cfg, user: user, now: now}
	reportsDir := cfg.Serve.ReportsDir
	w.jobs = append(w.jobs, server.Job{Name: "reports", Run: func(ctx context.Context) (int64, error) {
		data := report.WarehouseData(db, cfg, now)
		res, err := reports.Write(ctx, data, reports.Options{Out: reportsDir, Now: now(), Dashboards: user, Progress: stderr}, reports.Kinds...)
		if err != nil {
			return 0, err
		}
		return int64(len(res.Files)), nil
	}})
	return w, nil
}

// FileSourceDirs returns the folders the configured file sources read
// (sources.files paths, relative to the working folder): for a glob
// pattern, the folder before its first wildcard; for a file, its folder.
// A sealed warehouse may read these and no others.
func FileSourceDirs(cfg *config.Config) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range cfg.Sources.Files {
		for _, p := range f.Paths {
			dir := filepath.Dir(p)
			if i := strings.IndexAny(p, "*?[\\"); i >= 0 {
				dir = filepath.Dir(p[:i] + "x")
			}
			abs, err := filepath.Abs(dir)
			if err != nil || seen[abs] {
				continue
			}
			seen[abs] = true
			out = append(out, abs)
		}
	}
	sort.Strings(out)
	return out
}

func productionName(cfg *config.Config) string {
	if len(cfg.Metrics.ProductionEnvironments) > 0 {
		return cfg.Metrics.ProductionEnvironments[0]
	}
	return "production"
}

func jobList(jobs []server.Job) string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// EventSink stores pushed canonical events with the canonical file loader
// (source "push"); a bad record is answered 400 with its line and field.
func EventSink(db *warehouse.DB, now func() time.Time) server.EventSink {
	return func(ctx context.Context, body io.Reader, deliveryID string) (int64, error) {
		res, err := file.LoadReader(ctx, db, "push:"+deliveryID, body, file.Options{Source: "push", Now: now})
		if err != nil {
			var ue *file.UsageError
			if file.IsDataError(err) || errors.As(err, &ue) {
				return 0, &server.BadRequestError{Err: err}
			}
			return 0, err
		}
		return res.Written, nil
	}
}

// EventGroupSink stores the pushed canonical events of a group of
// deliveries through c (source "push"): one batch of the canonical file
// loader's rules, with the server's record of the deliveries in the same
// transaction; a bad record is pinned to its delivery, which alone is
// answered 400 with its line and field.
func EventGroupSink(c *file.GroupCommitter) server.EventGroupSink {
	return func(ctx context.Context, group []server.PushDelivery, inTx func(context.Context, *sql.Conn) error) error {
		streams := make([]file.Stream, len(group))
		for i, d := range group {
			streams[i] = file.Stream{Name: "push:" + d.ID, Data: d.Lines}
		}
		_, err := c.Load(ctx, streams, inTx)
		var ge *file.GroupError
		if errors.As(err, &ge) {
			return &server.GroupError{Index: ge.Index, Err: ge.Err}
		}
		return err
	}
}

// GitHubSink stores webhook deliveries through the GitHub source, so they
// land in its raw tables and are mapped by its rules.
func GitHubSink(db *warehouse.DB, src *github.Source) server.GitHubSink {
	return func(ctx context.Context, event string, body []byte, deliveryID string) (int64, error) {
		n, err := src.StoreWebhook(ctx, db, event, body)
		var we *github.WebhookError
		if errors.As(err, &we) {
			return 0, &server.BadRequestError{Err: err}
		}
		return n, err
	}
}

// PagerDutyWebhooks stores v3 webhook events through the PagerDuty source,
// into its raw tables, mapped by its rules.
func PagerDutyWebhooks(db *warehouse.DB, src *pagerduty.Source, secret []byte) *server.PagerDutyWebhooks {
	return &server.PagerDutyWebhooks{
		Secret: secret,
		Stored: pagerduty.Stored,
		Store: func(ctx context.Context, body []byte) (int64, error) {
			n, err := src.StoreWebhook(ctx, db, body)
			var we *pagerduty.WebhookError
			if errors.As(err, &we) {
				return 0, &server.BadRequestError{Err: err}
			}
			return n, err
		},
	}
}

// CDEventsSink parses and checks a request of CDEvents; every event must
// pass before any is stored. One event is keyed by its source and id; a
// batch by a hash of all its events' keys (the events themselves are
// stored once each, whatever batch brings them).
func CDEventsSink(db *warehouse.DB, src *cdevents.Source) server.CDEventsSink {
	return func(h http.Header, body []byte) (*server.CDEventsDelivery, error) {
		events, err := cdevents.ParseRequest(h, body)
		if err != nil {
			return nil, &server.BadRequestError{Err: err}
		}
		keep, ignored, err := src.Validator().Accepted(events)
		if err != nil {
			return nil, &server.BadRequestError{Err: err}
		}
		d := &server.CDEventsDelivery{Ignored: ignored, Event: events[0].Type, ID: events[0].Key()}
		if len(events) > 1 {
			sum := sha256.New()
			for _, ev := range events {
				fmt.Fprintf(sum, "%s\n", ev.Key())
			}
			d.Event, d.ID = "batch", "batch:"+hex.EncodeToString(sum.Sum(nil))
		}
		if len(d.ID) > 200 {
			sum := sha256.Sum256([]byte(d.ID))
			d.ID = "sha256:" + hex.EncodeToString(sum[:])
		}
		if len(keep) == 0 {
			return d, nil
		}
		for i := range keep {
			keep[i].Origin = "http " + d.ID
		}
		d.Store = func(ctx context.Context) (int64, error) { return src.StoreEvents(ctx, db, keep) }
		d.Events = keep
		return d, nil
	}
}

// CDEventsGroupSink stores the events of the CDEvents deliveries queued
// together (CDEventsSink checked them) in one transaction, with one
// mapping for all of them.
func CDEventsGroupSink(db *warehouse.DB, src *cdevents.Source) server.CDEventsGroupSink {
	return func(ctx context.Context, group []*server.CDEventsDelivery, inTx func(context.Context, *sql.Conn, []int64) error) error {
		events := make([][]cdevents.Event, len(group))
		for i, d := range group {
			evs, ok := d.Events.([]cdevents.Event)
			if !ok {
				return fmt.Errorf("cdevents: delivery %s holds no checked events", d.ID)
			}
			events[i] = evs
		}
		return src.StoreGroup(ctx, db, events, inTx)
	}
}

// GitLabSink stores webhook deliveries through the GitLab source, so they
// land in its raw tables (origin webhook) and are mapped by its rules.
func GitLabSink(db *warehouse.DB, src *gitlabsrc.Source) server.GitLabSink {
	return func(ctx context.Context, event string, body []byte, deliveryID string) (int64, error) {
		n, err := src.StoreWebhook(ctx, db, body)
		var we *gitlabsrc.WebhookError
		if errors.As(err, &we) {
			return 0, &server.BadRequestError{Err: err}
		}
		return n, err
	}
}

// dashboardSet renders the dashboard specs (the user's, then the built-in
// ones) with the live warehouse.
type dashboardSet struct {
	db   *warehouse.DB
	cfg  *config.Config
	user []fs.FS
	now  func() time.Time
}

func (d *dashboardSet) List() []server.DashboardInfo {
	seen := map[string]bool{}
	var out []server.DashboardInfo
	for _, fsys := range append(append([]fs.FS{}, d.user...), dashboards.Builtin()) {
		specs, err := dashboards.Load(fsys)
		if err != nil {
			continue
		}
		for _, s := range specs {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, server.DashboardInfo{Name: s.Name, Title: s.Title})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Render writes the page. The page loads ECharts from the relative path
// reports.EChartsPath, which resolves to assetsURL when the page is served
// beside it (/dashboards/NAME and /dashboards/assets/).
func (d *dashboardSet) Render(ctx context.Context, name, assetsURL string, w io.Writer) error {
	spec, err := dashboards.Find(name, d.user...)
	if err != nil {
		return err
	}
	data := report.WarehouseData(d.db, d.cfg, d.now)
	page, err := reports.RenderDashboard(ctx, data, reports.Options{Now: d.now(), Dashboards: d.user}, spec)
	if err != nil {
		return err
	}
	_, err = w.Write(page)
	return err
}

func (d *dashboardSet) Asset(name string) ([]byte, bool) {
	if name == filepath.Base(reports.EChartsPath) {
		return reports.EChartsJS(), true
	}
	return nil, false
}
