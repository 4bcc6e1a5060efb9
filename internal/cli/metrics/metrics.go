// Package metrics implements `shiplog metrics`: the DORA metrics and MTTR
// (and, with --view, velocity, adoption and support impact) from the marts.
package metrics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
)

// Options are the inputs of a metrics run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)

	Filter metrics.Filter
	View   string
	Format string
}

// FilterFlags adds the shared filter flags (--service, --team, --from, --to)
// to cmd and returns a function that parses them into f.
func FilterFlags(cmd *cobra.Command, f *metrics.Filter) func() error {
	var from, to string
	cmd.Flags().StringArrayVar(&f.Services, "service", nil, "only this service (repeatable)")
	cmd.Flags().StringArrayVar(&f.Teams, "team", nil, "only the services of this team (repeatable)")
	cmd.Flags().StringVar(&from, "from", "", "window start, YYYY-MM-DD (UTC midnight) or RFC 3339, inclusive")
	cmd.Flags().StringVar(&to, "to", "", "window end, YYYY-MM-DD (UTC midnight) or RFC 3339, exclusive")
	return func() error {
		var err error
		if f.From, err = ParseTime(from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		if f.To, err = ParseTime(to); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		return nil
	}
}

// ParseTime reads YYYY-MM-DD (midnight UTC) or RFC 3339; "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// NewCmdMetrics returns the metrics command. runF replaces the run function
// in tests of flag parsing.
func NewCmdMetrics(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Show the DORA metrics, MTTR and their tiers",
		Long: `Show deployment frequency, lead time, change failure rate, recovery time,
rework rate and MTTR per service (or team, department, organisation), for a
window and per week, month or quarter, with tiers from the configured
benchmark set. Run 'shiplog transform' after loading data.

--from is inclusive and --to exclusive; a bare date means midnight UTC.
Values that are undefined (no deployments in a period: no rate) are empty in
tables and null in JSON.

--view selects another output: ` + strings.Join(metrics.ViewNames(), ", ") + `.`,
		Example: `  shiplog metrics --team payments --from 2026-01-01 --to 2026-04-01 --by month
  shiplog metrics --level org --format json
  shiplog metrics --view velocity --level team --by week`,
		Args: cobra.NoArgs,
	}
	parse := FilterFlags(cmd, &opts.Filter)
	cmd.Flags().StringVar(&opts.Filter.By, "by", "", "split into periods: week, month or quarter")
	cmd.Flags().StringVar(&opts.Filter.Level, "level", "service", "row level: service, team, department or org")
	cmd.Flags().StringVar(&opts.View, "view", "dora", "output: dora, "+strings.Join(metrics.ViewNames(), ", "))
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, json or csv")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := parse(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if err := output.CheckFormat(opts.Format); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if err := opts.Filter.Check(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if _, ok := metrics.Views[opts.View]; !ok && opts.View != "dora" {
			return cmdutil.FlagErrorf("--view must be dora or one of %s, not %q", strings.Join(metrics.ViewNames(), ", "), opts.View)
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return Run(cmd.Context(), opts)
	}
	return cmd
}

// Run computes and prints the metrics.
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
	var t *output.Table
	if opts.View == "dora" || opts.View == "" {
		t, err = metrics.Compute(ctx, db, cfg, opts.Filter)
	} else {
		t, err = metrics.View(ctx, db, opts.View, opts.Filter)
	}
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return output.WriteJSON(opts.IO.Out, t, Meta(cfg, opts.Filter, opts.View))
	}
	return output.Write(opts.IO.Out, opts.Format, t, opts.IO.IsStdoutTTY())
}

// Meta is the top-level members of the JSON document beside rows.
func Meta(cfg *config.Config, f metrics.Filter, view string) map[string]any {
	m := map[string]any{
		"view":       view,
		"from":       timeOrNil(f.From),
		"to":         timeOrNil(f.To),
		"by":         f.By,
		"level":      f.Level,
		"benchmarks": cfg.Metrics.Benchmarks,
		"services":   f.Services,
		"teams":      f.Teams,
	}
	return m
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}
