// Package gitlab implements `shiplog ingest gitlab`: fetch merged merge
// requests, deployments, pipelines and incident issues from GitLab into the
// warehouse and map them to canonical rows.
package gitlab

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of one `shiplog ingest gitlab` run.
type Options struct {
	IO        *iostreams.IOStreams
	Now       func() time.Time
	Getenv    func(string) string
	Config    func() (*config.Config, error)
	Warehouse func(context.Context) (*warehouse.DB, error)
	// SourceOptions are passed to the source (tests: HTTP client, sleep).
	SourceOptions []gitlabsrc.Option

	// Flags; a flag that was given replaces the configuration's value.
	URL      string
	Projects []string
	Groups   []string
	Since    string
	TokenEnv string
	Full     bool
	NoWait   bool
	changed  func(string) bool
}

// NewCmdGitLab returns the command. runF replaces the run function in tests
// of flag parsing.
func NewCmdGitLab(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now, Getenv: f.Getenv, Config: f.Config, Warehouse: f.Warehouse}
	cmd := &cobra.Command{
		Use:   "gitlab",
		Short: "Fetch GitLab merge requests, deployments, pipelines and incidents",
		Long: `Fetch what changed since the last run from the GitLab REST API (gitlab.com or
a self-managed instance) and map it to canonical changes, commits,
deployments, test runs and incidents.

Projects, groups, services, production environments, pipelines and
incidents come from sources.gitlab in shiplog.yaml; the flags below replace
those settings for this run. The token (read_api scope) is read from the
environment variable named by --token-env (default GITLAB_TOKEN), never from
a flag.

Every list is asked for with updated_after at the last run's cursor and the
ETag of the same query, so a run with nothing new costs one request per
project and list. A 429 is waited out (Retry-After, RateLimit-Reset); with
--no-wait the command stops instead, keeps what it fetched, and records the
run as partial so that the next run continues. --full reads everything again
and removes (and reports) what GitLab no longer lists.`,
		Example: `  GITLAB_TOKEN=... shiplog ingest gitlab --project acme/payments \
      --project acme/platform/web
  shiplog ingest gitlab --url https://gitlab.example.com --since 2024-01-01
  shiplog ingest gitlab --full`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.changed = cmd.Flags().Changed
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "GitLab instance (default https://gitlab.com; the API is URL/api/v4)")
	fl.StringArrayVar(&opts.Projects, "project", nil, "full project path group/name to read (repeatable; without --group, the only projects of this run)")
	fl.StringArrayVar(&opts.Groups, "group", nil, "read the projects of this group and its subgroups (repeatable)")
	fl.StringVar(&opts.Since, "since", "", "first sync only: a date (2024-01-01), a time or an age (90d)")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "environment variable holding the token (default GITLAB_TOKEN)")
	fl.BoolVar(&opts.Full, "full", false, "read everything again and remove what GitLab no longer lists")
	fl.BoolVar(&opts.NoWait, "no-wait", false, "stop at a spent rate limit instead of waiting; the run is marked partial")
	return cmd
}

// Merged returns the configuration's gitlab section with the given flags
// applied over it.
func (o *Options) Merged() (*gitlabsrc.Config, *config.Config, error) {
	cfg, err := o.Config()
	if err != nil {
		return nil, nil, err
	}
	g := gitlabsrc.Config{}
	if cfg.Sources.GitLab != nil {
		g = *cfg.Sources.GitLab
	}
	changed := o.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	if changed("url") {
		g.URL = o.URL
	}
	if changed("project") {
		g.Projects = o.Projects
		if !changed("group") {
			// Projects named on the command line are the whole run.
			g.Groups, g.Include, g.Exclude = nil, nil, nil
		}
	}
	if changed("group") {
		g.Groups = o.Groups
	}
	if changed("since") {
		g.Since = o.Since
	}
	if changed("token-env") {
		g.TokenEnv = o.TokenEnv
	}
	if changed("no-wait") {
		g.NoWait = o.NoWait
	}
	g.ApplyDefaults()
	if err := g.Validate(); err != nil {
		if len(g.Projects) == 0 && len(g.Groups) == 0 {
			return nil, nil, cmdutil.FlagErrorf("%v (or pass --project / --group)", err)
		}
		return nil, nil, err
	}
	return &g, cfg, nil
}

// Run fetches, maps, records the run in ingest_runs and prints a summary on
// stderr.
func Run(ctx context.Context, opts *Options) error {
	g, cfg, err := opts.Merged()
	if err != nil {
		return err
	}
	sopts := append([]gitlabsrc.Option{
		gitlabsrc.WithProgress(opts.IO.ErrOut),
		gitlabsrc.WithProductionEnvironments(cfg.Metrics.ProductionEnvironments),
		gitlabsrc.WithClock(opts.Now),
		gitlabsrc.WithFull(opts.Full),
	}, opts.SourceOptions...)
	src, err := gitlabsrc.New(g, opts.Getenv, sopts...)
	if err != nil {
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	_, syncErr := src.Ingest(ctx, db, opts.IO.ErrOut)
	summary(opts.IO.ErrOut, db, src.Stats(), time.Since(start))
	return syncErr
}

func summary(w io.Writer, db *warehouse.DB, st gitlabsrc.Stats, took time.Duration) {
	status := "done"
	if st.Partial {
		status = "stopped early at the rate limit (partial; run again to continue)"
	}
	fmt.Fprintf(w, "gitlab: %s in %s: %d requests (%d answered 304 Not Modified), %d rate-limit waits, %d retries\n",
		status, took.Round(time.Millisecond), st.Requests, st.NotModified, st.RateLimitWaits, st.Retries)
	tables := make([]string, 0, len(st.Rows))
	for t := range st.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Fprintf(w, "  %-32s %6d rows fetched\n", t, st.Rows[t])
	}
	for _, t := range gitlabsrc.Tables {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM ` + t + ` WHERE source = 'gitlab'`).Scan(&n); err == nil {
			fmt.Fprintf(w, "  %-32s %6d rows (source gitlab)\n", t, n)
		}
	}
}
