// Package explain implements `shiplog explain`: the rows behind a metric.
package explain

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	metricscmd "github.com/shiplog/shiplog/internal/cli/metrics"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/suggest"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
)

// Options are the inputs of an explain run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Now       func() time.Time

	Metric      string
	Filter      metrics.Filter
	Departments []string
	Table       cmdutil.TableFlags
}

// NewCmdExplain returns the explain command. runF replaces the run function
// in tests of flag parsing.
func NewCmdExplain(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly, Config: f.Config, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "explain METRIC",
		Short: "List the rows behind a metric",
		Long: `List the rows behind a metric for the same filters as 'shiplog metrics',
then the totals the metric shows for them (count, median, p75, p90 …):

  lead-time             each change deployed in the window with its deployment,
                        link rule and stages (a negative stage is 0 and named
                        in stage_anomaly), then the excluded ones with why
  change-failure-rate   each successful production deployment, failed first,
                        with the failure reason and linked incidents
  recovery-time         each failed deployment with what restored it and when
  deployment-frequency  each successful production deployment
  rework-rate           each successful production deployment, unplanned first

--from is inclusive and --to exclusive. The totals come from the metrics
engine itself (the organisation-wide row of 'shiplog metrics' for the same
services and window): on a terminal they follow the rows, in JSON they are
the "totals" object.`,
		Example: `  shiplog explain change-failure-rate --team payments --from 2026-01-01 \
      --to 2026-02-01
  shiplog explain lead-time --service checkout-api --format csv`,
		Args: cobra.ExactArgs(1),
	}
	parse := metricscmd.FilterFlags(cmd, &opts.Filter)
	metricscmd.DepartmentFlag(cmd, &opts.Departments)
	opts.Table.Register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		m, err := suggest.Check("metric", args[0], metrics.ExplainMetrics)
		if err != nil {
			return err
		}
		opts.Metric = m
		if err := parse(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if err := opts.Table.Check(); err != nil {
			return err
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

// Total is one figure of a metric's totals: a short label and the metrics
// column it comes from.
type Total struct{ Label, Column string }

// Totals are, per metric, the figures `shiplog metrics` shows for it.
var Totals = map[string][]Total{
	"lead-time": {{"changes", "lead_time_changes"}, {"left out", "lead_time_excluded"},
		{"median", "lead_time_median_hours"}, {"p75", "lead_time_p75_hours"}, {"p90", "lead_time_p90_hours"},
		{"tier", "lead_time_tier"}, {"unknown:", "lead_time_unknown_reason"}},
	"change-failure-rate": {{"deployments", "deployments"}, {"failed", "failed_deployments"},
		{"rate", "change_failure_rate"}, {"tier", "change_failure_rate_tier"}, {"unknown:", "failure_unknown_reason"}},
	"recovery-time": {{"failed", "failed_deployments"}, {"unrecovered", "unrecovered_failures"},
		{"median", "recovery_median_hours"}, {"p75", "recovery_p75_hours"}, {"p90", "recovery_p90_hours"},
		{"tier", "recovery_time_tier"}, {"unknown:", "failure_unknown_reason"}},
	"deployment-frequency": {{"deployments", "deployments"}, {"per day", "deployments_per_day"},
		{"days a week (median week)", "deployment_days_per_week"}, {"median interval", "deploy_interval_median_hours"},
		{"tier", "deployment_frequency_tier"}},
	"rework-rate": {{"deployments", "deployments"}, {"unplanned", "unplanned_deployments"},
		{"rate", "rework_rate"}, {"tier", "rework_rate_tier"}},
}

// Run prints the rows behind the metric and its totals.
func Run(ctx context.Context, opts *Options) error {
	cfg := config.Default()
	if opts.Config != nil {
		var err error
		if cfg, err = opts.Config(); err != nil {
			return err
		}
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := Compute(ctx, db, cfg, opts.Now, opts.Metric, metricscmd.Request{Filter: opts.Filter, Departments: opts.Departments})
	if err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		a.Coverage.Note(opts.IO.ErrOut, opts.IO.MessageWidth(), a.Period, metricscmd.Chosen(a.Filter), "deployment")
	}
	o := opts.Table.Options(opts.IO, a.Extra)
	o.Footer = "\n" + a.Footer + "\n"
	return output.Print(opts.IO.Out, a.Table, o)
}

// Answer is the rows behind a metric with the JSON document's other
// members, as `--format json` prints them and GET /api/v1/explain/{metric}
// answers them; Footer is the totals line for a terminal.
type Answer struct {
	metricscmd.Answer
	Footer string
}

// Compute is the one code path of `shiplog explain` and of the read API's
// explain. metric must be one of metrics.ExplainMetrics.
func Compute(ctx context.Context, db *warehouse.DB, cfg *config.Config, now func() time.Time, metric string, req metricscmd.Request) (*Answer, error) {
	q := output.DB(db)
	f := req.Filter
	if err := metricscmd.ResolveNamesWithin(ctx, q, &f, req.Departments, req.Limit); err != nil {
		return nil, err
	}
	t, err := metrics.Explain(ctx, db, metric, f)
	if err != nil {
		return nil, err
	}
	metrics.Describe(t)
	t.Primary = metrics.ExplainPrimary[metric]

	// The totals are the organisation-wide metrics row for the same
	// services and window: the very numbers `shiplog metrics` shows.
	org := f
	org.Level, org.By = "org", ""
	mt, err := metrics.Compute(ctx, db, cfg, org)
	if err != nil {
		return nil, err
	}
	metrics.Describe(mt)
	totals := totalsOf(mt, metric)

	cov, err := metricscmd.LoadCoverage(ctx, q, cfg, now)
	if err != nil {
		return nil, err
	}
	period := metricscmd.ShownPeriod(mt, f, cov)
	extra := map[string]any{
		"metric":   metric,
		"totals":   totalsJSON(mt, totals),
		"period":   period.Document(),
		"coverage": cov.Document("deployment"),
	}
	return &Answer{
		Answer: metricscmd.Answer{Table: t, Extra: extra, Filter: f, Coverage: cov, Period: period},
		Footer: totalsText(mt, totals),
	}, nil
}

// totalsOf returns the figures of metric, keeping only columns mt has.
func totalsOf(mt *output.Table, metric string) []Total {
	var out []Total
	for _, tot := range Totals[metric] {
		if mt.Index(tot.Column) >= 0 {
			out = append(out, tot)
		}
	}
	return out
}

func value(mt *output.Table, col string) any {
	if len(mt.Rows) == 0 {
		return nil
	}
	return mt.Rows[0][mt.Index(col)]
}

// totalsJSON is {column: value} with values as in the metrics JSON; a
// window without deployments gives counts of 0 and null rates.
func totalsJSON(mt *output.Table, totals []Total) map[string]any {
	out := map[string]any{}
	for _, tot := range totals {
		v := value(mt, tot.Column)
		if v == nil && mt.Kind(tot.Column) == format.Count {
			v = int64(0)
		}
		out[tot.Column] = format.JSON(mt.Kind(tot.Column), v)
	}
	return out
}

// totalsText is the line under the rows: "total: changes 214 · left out 8 ·
// median 26 h · p75 47 h · p90 74 h · tier high".
func totalsText(mt *output.Table, totals []Total) string {
	parts := make([]string, 0, len(totals))
	for _, tot := range totals {
		v := value(mt, tot.Column)
		if v == nil && mt.Kind(tot.Column) == format.Count {
			v = int64(0)
		}
		if v == nil && (strings.HasSuffix(tot.Column, "_tier") || strings.HasSuffix(tot.Column, "_unknown_reason")) {
			continue
		}
		text := format.Human(mt.Kind(tot.Column), v)
		if u, ok := mt.Unknown[tot.Column]; ok && v == nil && value(mt, u) != nil {
			text = "unknown" // the reason follows as its own figure
		}
		parts = append(parts, tot.Label+" "+text)
	}
	return "total: " + strings.Join(parts, " · ")
}
