// Package report implements `shiplog report`: static HTML reports
// (leadership, retro, audit, all), any dashboard spec, and the check of an
// archive's hash chain.
package report

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/reports"
)

// Options are the inputs of one report command.
type Options struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Config func() (*config.Config, error)
	// Data opens the data layer; the returned func releases it.
	Data func(ctx context.Context) (reports.Data, func() error, error)

	// Kinds are the reports to write (leadership, retro, audit).
	Kinds []string
	// Dashboard names the spec of `report dashboard`.
	Dashboard string
	// Dir is the archive folder of `report verify`.
	Dir string

	Out      string
	Team     string
	From, To time.Time
	Archive  string
}

// NewCmdReport returns the report noun with its verbs.
func NewCmdReport(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report <command>",
		Short: "Write static HTML reports and dashboards",
		Long: `Write static HTML reports that open from disk with no network: the
leadership report (DORA metrics per organisation and team), the retrospective
(timeline, bottlenecks, failures, incidents, support, adoption) and the audit
report (governance controls with their evidence). --archive keeps a copy in a
tamper-evident archive that "report verify" checks.`,
	}
	for _, k := range []struct{ name, short string }{
		{reports.Leadership, "Leadership report: the five DORA metrics with tiers, trend and risks"},
		{reports.Retro, "Retrospective report for a team and a period"},
		{reports.Audit, "Audit report: controls, findings and the data fingerprint"},
		{"all", "Every report and the index"},
	} {
		cmd.AddCommand(NewCmdWrite(f, k.name, k.short, nil))
	}
	cmd.AddCommand(NewCmdDashboard(f, nil))
	cmd.AddCommand(NewCmdVerify(f, nil))
	return cmd
}

func newOptions(f *cmdutil.Factory) *Options {
	return &Options{
		IO:     f.IOStreams,
		Now:    f.Now,
		Config: f.Config,
		Data:   func(ctx context.Context) (reports.Data, func() error, error) { return OpenData(ctx, f) },
	}
}

type dateFlags struct{ out, team, from, to, archive string }

func (d *dateFlags) register(cmd *cobra.Command, archive bool) {
	cmd.Flags().StringVar(&d.out, "out", "", "folder to write the pages to (required)")
	cmd.Flags().StringVar(&d.team, "team", "", "one team only (default: the organisation, with a page per team)")
	cmd.Flags().StringVar(&d.from, "from", "", "start of the period, YYYY-MM-DD or RFC 3339 (default: the last full month)")
	cmd.Flags().StringVar(&d.to, "to", "", "end of the period, excluded, YYYY-MM-DD or RFC 3339")
	if archive {
		cmd.Flags().StringVar(&d.archive, "archive", "", "also copy the pages into a dated folder of this archive and chain them in its manifest")
	}
}

func (d *dateFlags) apply(opts *Options) error {
	if d.out == "" {
		return cmdutil.FlagErrorf("--out is required")
	}
	opts.Out, opts.Team, opts.Archive = d.out, d.team, d.archive
	var err error
	if opts.From, err = parseTime("--from", d.from); err != nil {
		return err
	}
	if opts.To, err = parseTime("--to", d.to); err != nil {
		return err
	}
	if !opts.From.IsZero() && !opts.To.IsZero() && !opts.From.Before(opts.To) {
		return cmdutil.FlagErrorf("--from %s is not before --to %s", d.from, d.to)
	}
	return nil
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, cmdutil.FlagErrorf("%s: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", flag, s)
}

// NewCmdWrite returns the command that writes one report kind, or every
// kind for "all".
func NewCmdWrite(f *cmdutil.Factory, kind, short string, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	var d dateFlags
	cmd := &cobra.Command{
		Use:     kind + " --out DIR",
		Short:   short,
		Args:    cobra.NoArgs,
		Example: fmt.Sprintf("  shiplog report %s --out site --from 2026-10-01 --to 2026-11-01", kind),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := d.apply(opts); err != nil {
				return err
			}
			opts.Kinds = []string{kind}
			if kind == "all" {
				opts.Kinds = reports.Kinds
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunWrite(cmd.Context(), opts)
		},
	}
	d.register(cmd, true)
	return cmd
}

// RunWrite renders the reports, archives them when asked, and prints the
// index path.
func RunWrite(ctx context.Context, opts *Options) error {
	ropts, err := opts.reportOptions()
	if err != nil {
		return err
	}
	data, closeData, err := opts.Data(ctx)
	if err != nil {
		return err
	}
	defer closeData()
	if ropts.Team, err = checkTeam(ctx, data, ropts.Team); err != nil {
		return err
	}
	res, err := reports.Write(ctx, data, ropts, opts.Kinds...)
	if err != nil {
		return err
	}
	return opts.finish(res)
}

func (opts *Options) reportOptions() (reports.Options, error) {
	ro := reports.Options{Out: opts.Out, Team: opts.Team, From: opts.From, To: opts.To, Now: opts.Now(), Progress: opts.IO.ErrOut}
	cfg, err := opts.Config()
	if err != nil {
		return ro, err
	}
	if dir := cfg.Reports.DashboardsDir; dir != "" {
		if !filepath.IsAbs(dir) && cfg.Path != "" {
			dir = filepath.Join(filepath.Dir(cfg.Path), dir)
		}
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			return ro, fmt.Errorf("reports.dashboards_dir: %s is not a folder", dir)
		}
		ro.Dashboards = []fs.FS{os.DirFS(dir)}
	}
	return ro, nil
}

func (opts *Options) finish(res *reports.Result) error {
	if opts.Archive != "" {
		if err := os.MkdirAll(opts.Archive, 0o755); err != nil {
			return err
		}
		folder, err := reports.Archive(opts.Out, res.Files, opts.Archive, opts.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "archived %d files in %s\n", len(res.Files), folder)
	}
	fmt.Fprintln(opts.IO.Out, res.Index)
	return nil
}

// NewCmdDashboard returns `report dashboard NAME`.
func NewCmdDashboard(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	var d dateFlags
	cmd := &cobra.Command{
		Use:   "dashboard NAME --out DIR",
		Short: "Render a dashboard spec, built in or from reports.dashboards_dir",
		Long: `Render one dashboard spec as a static HTML page. Specs are YAML files: a
list of panels, each a named query (or the metrics engine) and a chart type
(kpi, line, bar, stacked_bar, heatmap, table). Specs in the folder named by
reports.dashboards_dir in shiplog.yaml are searched before the built-in ones.`,
		Example: "  shiplog report dashboard teams --out site",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := d.apply(opts); err != nil {
				return err
			}
			opts.Dashboard = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunDashboard(cmd.Context(), opts)
		},
	}
	d.register(cmd, true)
	return cmd
}

// RunDashboard renders one spec.
func RunDashboard(ctx context.Context, opts *Options) error {
	ropts, err := opts.reportOptions()
	if err != nil {
		return err
	}
	spec, err := dashboards.Find(opts.Dashboard, ropts.Dashboards...)
	if err != nil {
		return err
	}
	data, closeData, err := opts.Data(ctx)
	if err != nil {
		return err
	}
	defer closeData()
	if ropts.Team, err = checkTeam(ctx, data, ropts.Team); err != nil {
		return err
	}
	res, err := reports.WriteDashboard(ctx, data, ropts, spec)
	if err != nil {
		return err
	}
	return opts.finish(res)
}

// NewCmdVerify returns `report verify DIR`.
func NewCmdVerify(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check an archive's hash chain and files",
		Long: `Check a report archive: every manifest entry chains to the one before, every
listed file has its recorded SHA-256, and no file is present without being
listed. Prints one line per problem and exits 1 if there is any.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunVerify(cmd.Context(), opts)
		},
	}
	return cmd
}

// RunVerify checks the archive and reports what it found.
func RunVerify(ctx context.Context, opts *Options) error {
	problems, err := reports.Verify(opts.Dir)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(opts.IO.Out, p)
	}
	if len(problems) > 0 {
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitError, Msg: fmt.Sprintf("archive %s: %d problem(s) found", opts.Dir, len(problems))}
	}
	n, head, err := reports.ManifestHead(opts.Dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "archive %s: intact, %d entries, head %s\n", opts.Dir, n, head)
	return nil
}

// checkTeam returns --team in the warehouse's spelling, or an error with
// the closest known teams: a typo must not write a report of nothing.
func checkTeam(ctx context.Context, data reports.Data, team string) (string, error) {
	if team == "" {
		return "", nil
	}
	t, err := data.Query(ctx, "report-service-teams", nil)
	if err != nil {
		return "", err
	}
	known, err := catalog.FromTable(t).CheckTeams([]string{team})
	if err != nil {
		return "", err
	}
	return known[0], nil
}
