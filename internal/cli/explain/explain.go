// Package explain implements `shiplog explain`: the rows behind a metric.
package explain

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	metricscmd "github.com/shiplog/shiplog/internal/cli/metrics"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
)

// Options are the inputs of an explain run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)

	Metric string
	Filter metrics.Filter
	Format string
}

// NewCmdExplain returns the explain command. runF replaces the run function
// in tests of flag parsing.
func NewCmdExplain(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly}
	cmd := &cobra.Command{
		Use:   "explain METRIC",
		Short: "List the rows behind a metric",
		Long: `List the rows behind a metric for the same filters as 'shiplog metrics':

  lead-time             each change deployed in the window with its deployment,
                        link rule and stages (a negative stage is 0 and named
                        in stage_anomaly), then the excluded ones with why
  change-failure-rate   each successful production deployment, failed first,
                        with the failure reason and linked incidents
  recovery-time         each failed deployment with what restored it and when
  deployment-frequency  each successful production deployment
  rework-rate           each successful production deployment, unplanned first

--from is inclusive and --to exclusive.`,
		Example: `  shiplog explain change-failure-rate --team payments --from 2026-01-01 --to 2026-02-01`,
		Args:    cobra.ExactArgs(1),
	}
	parse := metricscmd.FilterFlags(cmd, &opts.Filter)
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, json or csv")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Metric = args[0]
		ok := false
		for _, m := range metrics.ExplainMetrics {
			ok = ok || m == opts.Metric
		}
		if !ok {
			return cmdutil.FlagErrorf("unknown metric %q: one of %s", opts.Metric, strings.Join(metrics.ExplainMetrics, ", "))
		}
		if err := parse(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if err := output.CheckFormat(opts.Format); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if err := opts.Filter.Check(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return Run(cmd.Context(), opts)
	}
	return cmd
}

// Run prints the rows behind the metric.
func Run(ctx context.Context, opts *Options) error {
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := metrics.Explain(ctx, db, opts.Metric, opts.Filter)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return output.WriteJSON(opts.IO.Out, t, map[string]any{"metric": opts.Metric})
	}
	return output.Write(opts.IO.Out, opts.Format, t, opts.IO.IsStdoutTTY())
}
