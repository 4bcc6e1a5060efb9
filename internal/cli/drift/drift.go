// Package drift implements `shiplog drift`: what version runs in which
// environment, and how far staging and production are apart.
package drift

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/drift"
	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of a drift run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)

	Services     []string
	Format       string
	Wide         bool
	Columns      []string
	Environments bool
	Dependencies bool
}

// NewCmdDrift returns the command. runF replaces the run function in tests
// of flag parsing.
func NewCmdDrift(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Environment drift: what runs where, staging against production",
		Long: `Compare what each environment runs, from the latest successful deployment per
service and environment.

By default, one row per service: the production and staging versions and
commits, how many commits staging is ahead of and behind production (through
the commit graph; empty when the commits are not known), days apart
(staging - production), and whether production runs a version that never
passed through staging.

--environments lists the current version in every environment.
--dependencies lists, per service in production and each dependency, the
dependency version it was tested with in staging and the one it runs against
now; dependency_behind is true when production runs an older one.`,
		Example: `  shiplog drift
  shiplog drift --environments --format csv
  shiplog drift --dependencies --service checkout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Environments && opts.Dependencies {
				return cmdutil.FlagErrorf("choose one of --environments and --dependencies")
			}
			if err := output.CheckFormat(opts.Format); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Services, "service", nil, "only these services (repeat or comma-separate)")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, tsv, json or csv (table is tab-separated when piped)")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "on a terminal, show every column, unfitted")
	cmd.Flags().StringSliceVar(&opts.Columns, "columns", nil, "print only these `COLUMNS`, in this order (comma-separated)")
	cmd.Flags().BoolVar(&opts.Environments, "environments", false, "list the current version per service and environment")
	cmd.Flags().BoolVar(&opts.Dependencies, "dependencies", false, "list dependency versions tested with against running with")
	return cmd
}

// Run prints the view the options ask for.
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
	if len(opts.Services) > 0 {
		cat, err := catalog.Load(ctx, output.DB(db))
		if err != nil {
			return err
		}
		if opts.Services, err = cat.CheckServices(opts.Services); err != nil {
			return err
		}
	}
	get := drift.Services
	switch {
	case opts.Environments:
		get = drift.Environments
	case opts.Dependencies:
		get = drift.Dependencies
	}
	t, err := get(ctx, db, cfg, drift.Filter{Services: opts.Services})
	if err != nil {
		return err
	}
	tf := cmdutil.TableFlags{Format: opts.Format, Wide: opts.Wide, Columns: opts.Columns}
	return tf.Print(opts.IO, describe(t), nil)
}
