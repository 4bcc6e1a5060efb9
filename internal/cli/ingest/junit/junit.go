// Package junit implements `shiplog ingest junit`: load JUnit XML test
// reports for one service and build.
package junit

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/ingest/junit"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of a JUnit load.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Now       func() time.Time

	Paths []string
	Load  junit.Options
}

// NewCmdJUnit returns the `ingest junit` command. runF replaces the run
// function in tests of flag parsing.
func NewCmdJUnit(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "junit PATH... --service S (--version V | --commit SHA)",
		Short: "Load JUnit XML test reports (Surefire, Gradle, pytest, Jest, Go…)",
		Long: `Load JUnit XML test reports into test_runs (one run per test suite) and
test_results (one row per test case) for one service and build.

The tool that wrote each file is detected (maven-surefire, junit5, gradle,
pytest, jest, go, or junit) unless --framework names it. A test that failed
and passed for the same service and commit (or version) across the files and
runs loaded so far is marked flaky. Loading the same file again replaces its
rows. A malformed file is reported with its line and column and nothing is
written.`,
		Example: `  shiplog ingest junit target/surefire-reports/*.xml --service cart \
      --commit "$GIT_COMMIT"
  shiplog ingest junit report.xml --service web --version 2.4.0 \
      --suite-required 'src/*.test.js'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.Load.Service == "" {
				return cmdutil.FlagErrorf("--service is required")
			}
			if (opts.Load.Version == "") == (opts.Load.Commit == "") {
				return cmdutil.FlagErrorf("give exactly one of --version and --commit")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Load.Service, "service", "", "service the tests belong to")
	cmd.Flags().StringVar(&opts.Load.Version, "version", "", "version that was tested")
	cmd.Flags().StringVar(&opts.Load.Commit, "commit", "", "commit SHA that was tested")
	cmd.Flags().StringVar(&opts.Load.Framework, "framework", "", "framework name to record instead of detecting it")
	cmd.Flags().StringArrayVar(&opts.Load.RequiredSuites, "suite-required", nil, "suite `NAME` (or glob) the release gate requires green (repeatable)")
	return cmd
}

// Run loads the files and reports the totals on stderr.
func Run(ctx context.Context, opts *Options) error {
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	opts.Load.Now = opts.Now
	opts.Load.Progress = opts.IO.ErrOut
	res, err := junit.Load(ctx, db, opts.Paths, opts.Load)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "junit: %d file(s), %d suite run(s): %d tests, %d passed, %d failed, %d errors, %d skipped, %d flaky\n",
		res.Files, res.Runs, res.Tests, res.Passed, res.Failed, res.Errors, res.Skipped, res.Flaky)
	for _, p := range res.UnmatchedRequired {
		fmt.Fprintf(opts.IO.ErrOut, "junit: warning: no suite matched --suite-required %q\n", p)
	}
	return nil
}
