// Package transform implements `shiplog transform`: rebuild the marts from
// the canonical tables.
package transform

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/all"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// Options are the inputs of a transform run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	// Mappers are the sources' raw → canonical mappers run first.
	Mappers []ingest.Mapper
	// Full rebuilds every mart, not only what changed since the last run.
	Full bool
}

// NewCmdTransform returns the transform command. runF replaces the run
// function in tests of flag parsing.
func NewCmdTransform(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "transform",
		Short: "Rebuild the marts from the canonical tables",
		Long: `Rebuild the models (staging, intermediate, marts) in one transaction, then
run the tests declared beside each model. Progress, with each model's time,
goes to stderr. If a model or a test fails, nothing changes: the previous
marts stay as they were.

After a first full build, a run rebuilds only what changed since: the
services whose rows are new, changed or removed (and those their rows
reference), and nothing at all when no canonical row changed. A change of
the models, of a setting they read (metrics, calendar, controls) or of the
schema rebuilds everything, and so does --full.

The configured API sources' mappings (raw rows to canonical rows) run
first; each is skipped when nothing it reads or writes changed since it
last mapped, and the progress line says "unchanged". --full maps them
again too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Full, "full", false, "Rebuild every mart and map every source again, not only what changed since the last run")
	return cmd
}

// Run rebuilds the marts.
func Run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if opts.Mappers == nil {
		// The configured sources' mappings (github, jira); no token needed.
		opts.Mappers = all.Mappers(cfg, nil)
	}
	// its progress lines wrap at a terminal's width
	progress := &format.LineWrapper{W: opts.IO.ErrOut, Width: opts.IO.MessageWidth()}
	defer progress.Flush()
	return transform.Run(ctx, db, cfg, transform.Options{Progress: progress, Mappers: opts.Mappers, Full: opts.Full})
}
