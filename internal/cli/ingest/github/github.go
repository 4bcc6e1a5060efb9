// Package github implements `shiplog ingest github`: fetch pull requests,
// deployments, releases and deploy workflow runs from GitHub into the
// warehouse and map them to canonical rows.
package github

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	ghsource "github.com/shiplog/shiplog/ingest/github"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of one `shiplog ingest github` run.
type Options struct {
	IO        *iostreams.IOStreams
	Now       func() time.Time
	Getenv    func(string) string
	Config    func() (*config.Config, error)
	Warehouse func(context.Context) (*warehouse.DB, error)
	// SourceOptions are passed to the source (tests: HTTP client, sleep).
	SourceOptions []ghsource.Option

	// Flags; a flag that was given replaces the configuration's value.
	APIURL                string
	Repos                 []string
	Org                   string
	Include               []string
	Exclude               []string
	TokenEnv              string
	NoWait                bool
	ReleasesAsDeployments []string
	DeployWorkflows       []string
	changed               func(string) bool
}

// NewCmdGitHub returns the command. runF replaces the run function in tests
// of flag parsing.
func NewCmdGitHub(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now, Getenv: f.Getenv, Config: f.Config, Warehouse: f.Warehouse}
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Fetch GitHub pull requests, deployments, releases and deploy runs",
		Long: `Fetch what changed since the last run from the GitHub REST API (github.com or
GitHub Enterprise Server) and map it to canonical deployments, changes and
commits.

Repositories, services, production environments and deploy workflows come
from sources.github in shiplog.yaml; the flags below replace those settings
for this run. The token is read from the environment variable named by
--token-env (default GITHUB_TOKEN), never from a flag.

Unchanged lists are asked for with their ETag and cost no rate limit. When
the rate limit is spent the command waits for its reset, printing how long;
with --no-wait it stops instead, keeps what it fetched, and records the run
as partial so that the next run continues.`,
		Example: `  GITHUB_TOKEN=... shiplog ingest github --repo acme/payments --repo acme/web
  shiplog ingest github --org acme --exclude 'sandbox-*' \
      --deploy-workflow Deploy
  shiplog ingest github --api-url https://github.example.com/api/v3/ --no-wait`,
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
	fl.StringVar(&opts.APIURL, "api-url", "", "REST API root (default https://api.github.com/; GitHub Enterprise: https://HOST/api/v3/)")
	fl.StringArrayVar(&opts.Repos, "repo", nil, "owner/name repository to read (repeatable)")
	fl.StringVar(&opts.Org, "org", "", "read the repositories of this organisation")
	fl.StringArrayVar(&opts.Include, "include", nil, "with --org: only repositories whose name matches this glob (repeatable)")
	fl.StringArrayVar(&opts.Exclude, "exclude", nil, "with --org: skip repositories whose name matches this glob (repeatable)")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "environment variable holding the token (default GITHUB_TOKEN)")
	fl.BoolVar(&opts.NoWait, "no-wait", false, "stop at a spent rate limit instead of waiting; the run is marked partial")
	fl.StringArrayVar(&opts.ReleasesAsDeployments, "releases-as-deployments", nil, "owner/name (or *) whose published releases are production deployments (repeatable)")
	fl.StringArrayVar(&opts.DeployWorkflows, "deploy-workflow", nil, "workflow name or file (deploy.yml) whose runs are production deployments (repeatable)")
	return cmd
}

// Merged returns the configuration's github section with the given flags
// applied over it.
func (o *Options) Merged() (*config.GitHub, *config.Config, error) {
	cfg, err := o.Config()
	if err != nil {
		return nil, nil, err
	}
	var g config.GitHub
	if cfg.Sources.GitHub != nil {
		g = *cfg.Sources.GitHub
	}
	changed := o.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	if changed("api-url") {
		g.APIURL = o.APIURL
	}
	if changed("repo") {
		g.Repos = o.Repos
	}
	if changed("org") {
		g.Org = o.Org
	}
	if changed("include") {
		g.Include = o.Include
	}
	if changed("exclude") {
		g.Exclude = o.Exclude
	}
	if changed("token-env") {
		g.TokenEnv = o.TokenEnv
	}
	if changed("no-wait") {
		g.NoWait = o.NoWait
	}
	if changed("releases-as-deployments") {
		g.ReleasesAsDeployments = o.ReleasesAsDeployments
	}
	if changed("deploy-workflow") {
		g.DeployWorkflows = o.DeployWorkflows
	}
	g.ApplyDefaults()
	if err := g.Validate(); err != nil {
		if len(g.Repos) == 0 && g.Org == "" {
			return nil, nil, cmdutil.FlagErrorf("%v (or pass --repo / --org)", err)
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
	prod := "production"
	if len(cfg.Metrics.ProductionEnvironments) > 0 {
		prod = cfg.Metrics.ProductionEnvironments[0]
	}
	sopts := append([]ghsource.Option{
		ghsource.WithProgress(opts.IO.ErrOut),
		ghsource.WithProductionName(prod),
		ghsource.WithClock(opts.Now),
	}, opts.SourceOptions...)
	src, err := ghsource.New(g, opts.Getenv, sopts...)
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
	st := src.Stats()
	summary(opts.IO.ErrOut, db, st, time.Since(start))
	return syncErr
}

func summary(w io.Writer, db *warehouse.DB, st ghsource.Stats, took time.Duration) {
	status := "done"
	if st.Partial {
		status = "stopped early at the rate limit (partial; run again to continue)"
	}
	fmt.Fprintf(w, "github: %s in %s: %d requests (%d answered 304 Not Modified), %d rate-limit waits, %d retries\n",
		status, took.Round(time.Millisecond), st.Requests, st.NotModified, st.RateLimitWaits, st.Retries)
	tables := make([]string, 0, len(st.Rows))
	for t := range st.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Fprintf(w, "  %-32s %6d rows fetched\n", t, st.Rows[t])
	}
	for _, t := range []string{"deployments", "changes", "commits"} {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM ` + t + ` WHERE source = 'github'`).Scan(&n); err == nil {
			fmt.Fprintf(w, "  %-32s %6d rows (source github)\n", t, n)
		}
	}
}
