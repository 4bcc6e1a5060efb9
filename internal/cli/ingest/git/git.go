// Package git implements `shiplog ingest git`: commits and release tags of
// local clones.
package git

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/ingest"
	gitsrc "github.com/shiplog/shiplog/ingest/git"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of one `ingest git` run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Now       func() time.Time

	Repo       string
	Name       string
	Service    string
	TagPattern string
}

// NewCmdGit returns the command. runF replaces the run function in tests of
// flag parsing.
func NewCmdGit(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "git [--repo PATH]",
		Short: "Load commits and release tags from local git clones",
		Long: `Read a local clone into the warehouse: every commit (sha, parents, author,
times) into commits, and tags matching --tag-pattern into successful
production deployments of the service (version = tag, commit = tagged commit,
finished = tagger date of an annotated tag, else the commit date).

Re-runs are incremental: only commits new since the last run are read. Tags
are re-read every time, so a moved or deleted tag replaces its deployment.
Without --repo, every repository under sources.git in the configuration is read.`,
		Example: `  shiplog ingest git --repo ../api --name acme/api --service api
  shiplog ingest git --repo ../web --tag-pattern '^release-[0-9]+$'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Repo == "" && (opts.Name != "" || opts.Service != "" || opts.TagPattern != "") {
				return cmdutil.FlagErrorf("--name, --service and --tag-pattern need --repo")
			}
			if opts.TagPattern != "" {
				if _, err := regexp.Compile(opts.TagPattern); err != nil {
					return cmdutil.FlagErrorf("--tag-pattern: %v", err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Repo, "repo", "", "path of a local clone")
	cmd.Flags().StringVar(&opts.Name, "name", "", "repository name in the warehouse, owner/name (default: from the origin remote)")
	cmd.Flags().StringVar(&opts.Service, "service", "", "service whose releases the tags are (default: the repository's name)")
	cmd.Flags().StringVar(&opts.TagPattern, "tag-pattern", "", "regular expression selecting release tags (default "+gitsrc.DefaultTagPattern+")")
	return cmd
}

// Run reads the repositories named by the flags or the configuration.
func Run(ctx context.Context, opts *Options) error {
	var cfgs []gitsrc.Config
	if opts.Repo != "" {
		c := gitsrc.NewConfig(opts.Repo)
		c.Name, c.Service = opts.Name, opts.Service
		if opts.TagPattern != "" {
			c.TagPattern = opts.TagPattern
		}
		cfgs = append(cfgs, c)
	} else {
		cfg, err := opts.Config()
		if err != nil {
			return err
		}
		for _, g := range cfg.Sources.Git {
			c := gitsrc.NewConfig(g.Repo)
			c.Name, c.Service = g.Name, g.Service
			if g.TagPattern != "" {
				c.TagPattern = g.TagPattern
			}
			cfgs = append(cfgs, c)
		}
		if len(cfgs) == 0 {
			return cmdutil.FlagErrorf("no repository: give --repo or list repositories under sources.git in the configuration")
		}
	}
	var sources []*gitsrc.Source
	for _, c := range cfgs {
		s, err := gitsrc.New(c)
		if err != nil {
			return err
		}
		sources = append(sources, s)
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var errs []error
	for _, s := range sources {
		if err := SyncOne(ctx, db, s, opts.IO, opts.Now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SyncOne runs one source (ingest.Run records it in ingest_runs).
func SyncOne(ctx context.Context, db *warehouse.DB, s *gitsrc.Source, io *iostreams.IOStreams, now func() time.Time) error {
	start := time.Now()
	run, err := ingest.Run(ctx, s, &ingest.Env{DB: db, Progress: io.ErrOut, Now: now})
	if err == nil {
		fmt.Fprintf(io.ErrOut, "git: %s: done in %s (run %d)\n", s.Config().Name, time.Since(start).Round(time.Millisecond), run.ID)
	}
	return err
}
