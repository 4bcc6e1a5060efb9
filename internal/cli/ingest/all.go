package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	ingestpkg "github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/all"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// RunTransform rebuilds the canonical rows of the mappers' sources and the
// models after a successful `ingest --all`, as `shiplog transform` does.
// Tests replace it; while nil, `ingest --all` skips the transform and says
// so.
var RunTransform = func(ctx context.Context, db *warehouse.DB, cfg *config.Config, mappers []ingestpkg.Mapper, progress io.Writer) error {
	return transform.Run(ctx, db, cfg, transform.Options{Progress: progress, Mappers: mappers})
}

// AllOptions are the inputs of `shiplog ingest --all`.
type AllOptions struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Getenv    func(string) string
	Now       func() time.Time
	// SourceOptions are passed to all.Sources (tests: HTTP clients, sleeps).
	SourceOptions []all.Option

	NoTransform bool
}

// addAll gives the ingest noun its --all and --no-transform flags. Without
// --all, the noun prints its help as before.
func addAll(cmd *cobra.Command, f *cmdutil.Factory, runF func(context.Context, *AllOptions) error) {
	opts := &AllOptions{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config, Getenv: f.Getenv, Now: f.Now}
	var runAll bool
	cmd.Long = `Load data into the warehouse: one subcommand per source, or --all for every
source configured under sources in shiplog.yaml, in the order files, git,
github, gitlab, jira, pagerduty, cdevents. A failing source does not stop
the others; the command ends with a summary table on stderr and exits 1
naming the sources that failed. After a run where every source succeeded,
the transform rebuilds the canonical rows and marts (skip it with
--no-transform).`
	cmd.Example = `  shiplog ingest --all
  shiplog ingest --all --no-transform
  shiplog ingest file events.jsonl`
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			var names []string
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					names = append(names, s.Name())
				}
			}
			return cmdutil.FlagErrorf("unknown source %q for %q (one of %s, or --all)", args[0], c.CommandPath(), strings.Join(names, ", "))
		}
		return nil
	}
	cmd.Flags().BoolVar(&runAll, "all", false, "run every source configured in shiplog.yaml")
	cmd.Flags().BoolVar(&opts.NoTransform, "no-transform", false, "with --all: do not run the transform afterwards")
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !runAll {
			if c.Flags().Changed("no-transform") {
				return cmdutil.FlagErrorf("--no-transform needs --all")
			}
			return c.Help()
		}
		if runF != nil {
			return runF(c.Context(), opts)
		}
		return RunAll(c.Context(), opts)
	}
}

// RunAll runs every configured source, prints the summary table on stderr
// and, when all succeeded, the transform.
func RunAll(ctx context.Context, opts *AllOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	w := opts.IO.ErrOut
	sopts := append([]all.Option{all.WithClock(opts.Now)}, opts.SourceOptions...)
	runners, err := all.Sources(cfg, opts.Getenv, w, sopts...)
	if err != nil {
		return err
	}
	if len(runners) == 0 {
		return cmdutil.FlagErrorf("no source configured: add one under sources: in %s (files, git, github, gitlab, jira, pagerduty, or cdevents with paths; shiplog init writes an example)", configName(cfg))
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	t := &output.Table{Columns: []string{"source", "target", "status", "read", "written", "rejected", "seconds", "error"}}
	var failed []string
	for i, r := range runners {
		fmt.Fprintf(w, "ingest: [%d/%d] %s\n", i+1, len(runners), r)
		start := time.Now()
		run, runErr := r.Run(ctx, db)
		took := time.Since(start).Seconds()
		status, read, written, rejected := ingestpkg.StatusFailed, int64(0), int64(0), int64(0)
		if run != nil {
			status, read, written, rejected = run.Status, run.Read, run.Written, run.Rejected
		}
		msg := ""
		if runErr != nil {
			failed = append(failed, r.String())
			fmt.Fprintf(w, "ingest: %s %s: %v\n", r, status, runErr)
			msg = oneLine(runErr.Error())
		}
		t.Rows = append(t.Rows, []any{r.Name, r.Target, status, read, written, rejected,
			fmt.Sprintf("%.1f", took), msg})
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintln(w)
	if err := output.Write(w, "table", t, opts.IO.IsStderrTTY()); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("ingest --all: %d of %d sources failed: %s", len(failed), len(runners), strings.Join(failed, ", "))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case opts.NoTransform:
	case RunTransform == nil:
		fmt.Fprintln(w, "ingest: transform not available in this build; run `shiplog transform`")
	default:
		fmt.Fprintln(w, "ingest: transform")
		progress := &format.LineWrapper{W: w, Width: opts.IO.MessageWidth()}
		err := RunTransform(ctx, db, cfg, all.Mappers(cfg, opts.Getenv), progress)
		progress.Flush()
		if err != nil {
			if !strings.HasPrefix(err.Error(), "transform") {
				err = fmt.Errorf("transform: %w", err)
			}
			return err
		}
	}
	return nil
}

func configName(cfg *config.Config) string {
	if cfg.Path != "" {
		return cfg.Path
	}
	return config.DefaultPath
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}
