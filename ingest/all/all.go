// Package all is the registry of ingest sources: the one place that knows
// every source shiplog has and how shiplog.yaml configures each. `shiplog
// ingest --all`, scheduled runs in `serve` and `shiplog transform` build
// their sources here.
//
// A new source adds one block to Sources (and to Mappers when it keeps raw
// tables), in the order sources should run.
package all

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/shiplog/shiplog/ingest"
	cdsrc "github.com/shiplog/shiplog/ingest/cdevents"
	filesrc "github.com/shiplog/shiplog/ingest/file"
	gitsrc "github.com/shiplog/shiplog/ingest/git"
	ghsource "github.com/shiplog/shiplog/ingest/github"
	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	jirasrc "github.com/shiplog/shiplog/ingest/jira"
	pdsrc "github.com/shiplog/shiplog/ingest/pagerduty"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Names are the sources in the order Sources runs them: canonical files
// first (they usually carry teams and services), then git, GitHub, GitLab,
// Jira, PagerDuty and CDEvents files.
var Names = []string{"file", gitsrc.SourceName, ghsource.Name, gitlabsrc.Name, jirasrc.Name, pdsrc.Name, cdsrc.Name}

// Runner is one configured source, ready to run.
type Runner struct {
	// Name is the source: file, git, github or jira (the source column of
	// ingest_runs).
	Name string
	// Target says what it reads: file paths, a repository path, the
	// repositories or the Jira address. It never holds a token.
	Target string

	// build makes the source afresh for each run (a glob is expanded, a
	// client starts with clean statistics).
	build    func() (ingest.Source, error)
	progress io.Writer
	now      func() time.Time
	getenv   func(string) string
}

// Run builds the source and runs it once through ingest.Run, which records
// the run in ingest_runs exactly as the source's own `shiplog ingest`
// command does; it returns the finished record (status and row counts)
// and prints one line about it. It may be called again for a later run.
func (r Runner) Run(ctx context.Context, db *warehouse.DB) (*ingest.RunRecord, error) {
	src, err := r.build()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	run, err := ingest.Run(ctx, src, &ingest.Env{DB: db, Progress: r.progress, Now: r.now, Getenv: r.getenv})
	if run != nil {
		fmt.Fprintf(r.progress, "%s: %s in %s: %d read, %d written, %d rejected (run %d)\n", r.Name, run.Status,
			time.Since(start).Round(time.Millisecond), run.Read, run.Written, run.Rejected, run.ID)
	}
	return run, err
}

// String is "name (target)".
func (r Runner) String() string {
	if r.Target == "" {
		return r.Name
	}
	return r.Name + " (" + r.Target + ")"
}

// Option adjusts how runners are built (tests: clock, HTTP clients, retry
// sleeps).
type Option func(*options)

type options struct {
	now       func() time.Time
	github    []ghsource.Option
	gitlab    []gitlabsrc.Option
	jira      []jirasrc.Option
	pagerduty []pdsrc.Option
}

// WithClock sets the clock recorded in ingest_runs (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithGitHubOptions passes options to every GitHub source built.
func WithGitHubOptions(opts ...ghsource.Option) Option {
	return func(o *options) { o.github = append(o.github, opts...) }
}

// WithGitLabOptions passes options to every GitLab source built.
func WithGitLabOptions(opts ...gitlabsrc.Option) Option {
	return func(o *options) { o.gitlab = append(o.gitlab, opts...) }
}

// WithJiraOptions passes options to every Jira source built.
func WithJiraOptions(opts ...jirasrc.Option) Option {
	return func(o *options) { o.jira = append(o.jira, opts...) }
}

// WithPagerDutyOptions passes options to every PagerDuty source built.
func WithPagerDutyOptions(opts ...pdsrc.Option) Option {
	return func(o *options) { o.pagerduty = append(o.pagerduty, opts...) }
}

// Sources returns a runner per source configured in cfg.Sources, in run
// order: each entry of files, each repository of git, then github and jira.
// Every source's settings are checked here, before any work starts; the
// errors of all faulty sources are returned together, each prefixed with
// its source's name. Tokens are read with getenv when a runner runs;
// progress receives messages for a person (nil discards them).
func Sources(cfg *config.Config, getenv func(string) string, progress io.Writer, opts ...Option) ([]Runner, error) {
	if cfg == nil {
		return nil, errors.New("no configuration")
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if progress == nil {
		progress = io.Discard
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var runners []Runner
	var errs []error
	runner := func(name, target string, build func() (ingest.Source, error)) Runner {
		return Runner{Name: name, Target: target, build: build, progress: progress, now: o.now, getenv: getenv}
	}

	for i, f := range cfg.Sources.Files {
		r, err := fileRunner(i, f, runner)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		runners = append(runners, r)
	}

	for i, g := range cfg.Sources.Git {
		c := gitsrc.NewConfig(g.Repo)
		c.Name, c.Service = g.Name, g.Service
		if g.TagPattern != "" {
			c.TagPattern = g.TagPattern
		}
		if _, err := gitsrc.New(c); err != nil {
			errs = append(errs, fmt.Errorf("sources.git[%d]: %w", i, err))
			continue
		}
		runners = append(runners, runner(gitsrc.SourceName, g.Repo, func() (ingest.Source, error) {
			return gitsrc.New(c)
		}))
	}

	if g := cfg.Sources.GitHub; g != nil {
		build := func() (*ghsource.Source, error) {
			sopts := append([]ghsource.Option{
				ghsource.WithProgress(progress),
				ghsource.WithProductionName(productionName(cfg)),
				ghsource.WithClock(o.now),
			}, o.github...)
			return ghsource.New(g, getenv, sopts...)
		}
		if s, err := build(); err != nil {
			errs = append(errs, err)
		} else {
			runners = append(runners, runner(ghsource.Name, s.Target(), func() (ingest.Source, error) { return build() }))
		}
	}

	if g := cfg.Sources.GitLab; g != nil {
		build := func() (*gitlabsrc.Source, error) {
			sopts := append([]gitlabsrc.Option{
				gitlabsrc.WithProgress(progress),
				gitlabsrc.WithProductionEnvironments(cfg.Metrics.ProductionEnvironments),
				gitlabsrc.WithClock(o.now),
			}, o.gitlab...)
			return gitlabsrc.New(g, getenv, sopts...)
		}
		if s, err := build(); err != nil {
			errs = append(errs, err)
		} else {
			runners = append(runners, runner(gitlabsrc.Name, s.Target(), func() (ingest.Source, error) { return build() }))
		}
	}

	if j := cfg.Sources.Jira; j != nil {
		build := func() (*jirasrc.Source, error) { return jirasrc.New(j, getenv, o.jira...) }
		if s, err := build(); err != nil {
			errs = append(errs, err)
		} else {
			runners = append(runners, runner(jirasrc.Name, s.Target(), func() (ingest.Source, error) { return build() }))
		}
	}
	if p := cfg.Sources.PagerDuty; p != nil {
		build := func() (*pdsrc.Source, error) {
			return pdsrc.New(p, getenv, append([]pdsrc.Option{pdsrc.WithClock(o.now), pdsrc.WithProgress(progress)}, o.pagerduty...)...)
		}
		if s, err := build(); err != nil {
			errs = append(errs, err)
		} else {
			runners = append(runners, runner(pdsrc.Name, s.Target(), func() (ingest.Source, error) { return build() }))
		}
	}

	if c := cfg.Sources.CDEvents; c != nil && len(c.Paths) > 0 {
		build := func() (*cdsrc.Source, error) { return cdsrc.New(c, cdsrc.WithClock(o.now)) }
		if s, err := build(); err != nil {
			errs = append(errs, err)
		} else {
			runners = append(runners, runner(cdsrc.Name, s.Target(), func() (ingest.Source, error) { return build() }))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return runners, nil
}

// fileRunner loads one entry of sources.files. Paths are relative to the
// working directory and may be glob patterns (a pattern matching nothing is
// an error when the runner runs, as is a missing file).
func fileRunner(i int, f config.Files, runner func(string, string, func() (ingest.Source, error)) Runner) (Runner, error) {
	at := fmt.Sprintf("sources.files[%d]", i)
	if len(f.Paths) == 0 {
		return Runner{}, fmt.Errorf("file: %s.paths: list at least one file", at)
	}
	for _, p := range f.Paths {
		if strings.TrimSpace(p) == "" {
			return Runner{}, fmt.Errorf("file: %s.paths: empty path", at)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return Runner{}, fmt.Errorf("file: %s.paths: bad pattern %q: %w", at, p, err)
		}
	}
	paths := append([]string(nil), f.Paths...)
	return runner("file", strings.Join(paths, " "), func() (ingest.Source, error) {
		var files []string
		for _, p := range paths {
			if !strings.ContainsAny(p, "*?[") {
				files = append(files, p)
				continue
			}
			m, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("file: %s: %w", p, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("file: %s: no file matches (%s.paths)", p, at)
			}
			files = append(files, m...)
		}
		return filesrc.NewSource(files, filesrc.Options{Kind: f.Kind, Source: "file"})
	}), nil
}

// productionName is the environment name GitHub deployments from releases
// and workflow runs get: the first of metrics.production_environments.
func productionName(cfg *config.Config) string {
	if len(cfg.Metrics.ProductionEnvironments) > 0 {
		return cfg.Metrics.ProductionEnvironments[0]
	}
	return "production"
}

// Mappers returns the configured sources that keep raw tables, as mappers
// that rebuild their canonical rows without network (for `shiplog
// transform`): github, gitlab, then jira. No token is read or needed. A source
// whose settings are faulty yields a mapper that returns that error, so the
// fault is reported when the mappings run rather than silently skipped.
func Mappers(cfg *config.Config, getenv func(string) string) []ingest.Mapper {
	if cfg == nil {
		return nil
	}
	var ms []ingest.Mapper
	if g := cfg.Sources.GitHub; g != nil {
		c := *g
		c.TokenFile = "" // mapping needs no token: never read the file
		s, err := ghsource.New(&c, nil, ghsource.WithProductionName(productionName(cfg)))
		if err != nil {
			ms = append(ms, failed{ghsource.Name, err})
		} else {
			ms = append(ms, s)
		}
	}
	if g := cfg.Sources.GitLab; g != nil {
		c := *g
		c.TokenFile = "" // mapping needs no token: never read the file
		s, err := gitlabsrc.New(&c, nil, gitlabsrc.WithProductionEnvironments(cfg.Metrics.ProductionEnvironments))
		if err != nil {
			ms = append(ms, failed{gitlabsrc.Name, err})
		} else {
			ms = append(ms, s)
		}
	}
	if j := cfg.Sources.Jira; j != nil {
		s, err := jirasrc.New(j, getenv)
		if err != nil {
			ms = append(ms, failed{jirasrc.Name, err})
		} else {
			ms = append(ms, s)
		}
	}
	if p := cfg.Sources.PagerDuty; p != nil {
		if s, err := pdsrc.New(p, nil); err != nil {
			ms = append(ms, failed{pdsrc.Name, err})
		} else {
			ms = append(ms, s)
		}
	}
	if c := cfg.Sources.CDEvents; c != nil {
		if s, err := cdsrc.New(c); err != nil {
			ms = append(ms, failed{cdsrc.Name, err})
		} else {
			ms = append(ms, s)
		}
	}
	return ms
}

// failed is a mapper that could not be built.
type failed struct {
	name string
	err  error
}

func (f failed) Name() string { return f.name }

func (f failed) Map(context.Context, *warehouse.DB) error { return f.err }

var (
	_ ingest.Mapper = (*ghsource.Source)(nil)
	_ ingest.Mapper = (*gitlabsrc.Source)(nil)
	_ ingest.Mapper = (*jirasrc.Source)(nil)
	_ ingest.Mapper = (*pdsrc.Source)(nil)
	_ ingest.Mapper = (*cdsrc.Source)(nil)
	// the API sources skip a mapping with nothing changed (ingest.Mapping)
	_ ingest.SkippingMapper = (*ghsource.Source)(nil)
	_ ingest.SkippingMapper = (*gitlabsrc.Source)(nil)
	_ ingest.SkippingMapper = (*jirasrc.Source)(nil)
	_ ingest.SkippingMapper = (*pdsrc.Source)(nil)
	_ ingest.Source         = (*ghsource.Source)(nil)
	_ ingest.Source         = (*jirasrc.Source)(nil)
	_ ingest.Source         = (*gitsrc.Source)(nil)
	_ ingest.Source         = (*filesrc.Source)(nil)
)
