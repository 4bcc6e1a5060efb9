// Package calendar implements `shiplog calendar`: planned and actual
// releases with their conflicts, as a table, JSON, CSV or an iCalendar file,
// and the slip of plans against actual releases.
package calendar

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/calendar"
	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of a calendar run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Now       func() time.Time

	From, To    time.Time
	Services    []string
	Format      string
	Wide        bool
	Columns     []string
	Conflicts   bool
	Each        bool
	Teams       []string
	Slips       bool
	SlipSummary bool
}

// NewCmdCalendar returns the command. runF replaces the run function in
// tests of flag parsing.
func NewCmdCalendar(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly, Config: f.Config, Now: f.Now}
	var from, to string
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Release calendar: planned and actual releases, conflicts and slips",
		Long: `List planned releases (release plans, change request windows) and actual
production deployments per service and environment, with their conflicts:

  environment     two releases in one environment at overlapping times
  dependency      the same, between services where one depends on the other
  freeze          a production release overlapping a configured freeze
  outside_window  a production release outside the configured release windows

Windows that only touch (one ends when the next starts) do not overlap.
Freezes and windows come from the calendar section of the configuration,
each in its own time zone.

--conflicts groups them: the same pair of services (or one service in a
freeze or outside the windows) once per kind and environment, with how many
conflicts it had, the first and last, and one example; ranked dependency,
freeze, outside_window, environment, then most conflicts first. Only
conflicts whose overlap falls in --from/--to count. --each lists every
conflict instead; --team keeps the conflicts that involve a team's services.

--slips lists each plan against its first successful production deployment
of the same version (slip in days, on time, late, missed); --slip-summary
gives the slip distribution per team.`,
		Example: `  shiplog calendar --from 2026-03-01 --to 2026-04-01
  shiplog calendar --conflicts --service api
  shiplog calendar --conflicts --team payments --from 2026-08-01 --to 2026-11-01
  shiplog calendar --format ics > releases.ics
  shiplog calendar --slips --format csv
  shiplog calendar --slip-summary`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.From, err = parseDate("--from", from); err != nil {
				return err
			}
			if opts.To, err = parseDate("--to", to); err != nil {
				return err
			}
			if !opts.From.IsZero() && !opts.To.IsZero() && !opts.To.After(opts.From) {
				return cmdutil.FlagErrorf("--to must be after --from")
			}
			views := 0
			for _, v := range []bool{opts.Conflicts, opts.Slips, opts.SlipSummary} {
				if v {
					views++
				}
			}
			if views > 1 {
				return cmdutil.FlagErrorf("choose one of --conflicts, --slips and --slip-summary")
			}
			if opts.Each && !opts.Conflicts {
				return cmdutil.FlagErrorf("--each goes with --conflicts")
			}
			allowed := output.Formats
			if views == 0 {
				allowed = append(append([]string{}, output.Formats...), "ics")
			}
			if err := output.CheckFormat(opts.Format, allowed...); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start of the range (YYYY-MM-DD or RFC 3339, UTC)")
	cmd.Flags().StringVar(&to, "to", "", "end of the range, exclusive")
	cmd.Flags().StringSliceVar(&opts.Services, "service", nil, "only these services (repeat or comma-separate)")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, tsv, json, csv, or ics for the calendar")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "on a terminal, show every column, unfitted")
	cmd.Flags().StringSliceVar(&opts.Columns, "columns", nil, "print only these `COLUMNS`, in this order (comma-separated)")
	cmd.Flags().BoolVar(&opts.Conflicts, "conflicts", false, "list the conflicts only, grouped by pair of services and ranked")
	cmd.Flags().BoolVar(&opts.Each, "each", false, "with --conflicts, one row per conflict instead of per pair")
	cmd.Flags().StringSliceVar(&opts.Teams, "team", nil, "only the services of these teams (repeat or comma-separate)")
	cmd.Flags().BoolVar(&opts.Slips, "slips", false, "list each release plan with its slip")
	cmd.Flags().BoolVar(&opts.SlipSummary, "slip-summary", false, "slip distribution per team (median, p90, share on time, missed)")
	return cmd
}

func parseDate(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, cmdutil.FlagErrorf("%s: %q is not a date (YYYY-MM-DD or RFC 3339)", flag, s)
}

// Run prints the calendar view the options ask for.
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
	if opts.Services, err = checkServices(ctx, db, opts.Services); err != nil {
		return err
	}
	if len(opts.Teams) > 0 {
		if opts.Services, err = teamServices(ctx, db, opts.Teams, opts.Services); err != nil {
			return err
		}
	}
	tf := cmdutil.TableFlags{Format: opts.Format, Wide: opts.Wide, Columns: opts.Columns}
	if opts.Slips || opts.SlipSummary {
		f := calendar.SlipFilter{From: opts.From, To: opts.To, Services: opts.Services, Now: opts.Now()}
		get := calendar.Slips
		if opts.SlipSummary {
			get = calendar.SlipSummary
		}
		t, err := get(ctx, db, cfg, f)
		if err != nil {
			return err
		}
		return tf.Print(opts.IO, describe(t), nil)
	}
	cal, err := calendar.Load(ctx, db, cfg, calendar.Options{From: opts.From, To: opts.To, Services: opts.Services})
	if err != nil {
		return err
	}
	switch {
	case opts.Format == "ics":
		err = calendar.WriteICS(opts.IO.Out, cal, opts.Now())
	case opts.Conflicts && opts.Each:
		err = tf.Print(opts.IO, describe(cal.ConflictsTable()), nil)
	case opts.Conflicts:
		groups := calendar.Groups(cal.Conflicts, opts.From, opts.To)
		err = tf.Print(opts.IO, describe(calendar.GroupsTable(groups)), nil)
		if err == nil && opts.Format != "json" {
			fmt.Fprintf(opts.IO.ErrOut, "%d conflicts in %d groups (--each lists every conflict)\n", len(cal.Conflicts), len(groups))
		}
	default:
		err = tf.Print(opts.IO, describe(cal.EventsTable()), nil)
	}
	if err != nil {
		return err
	}
	if n := len(cal.Conflicts); n > 0 && !opts.Conflicts && opts.Format != "json" {
		fmt.Fprintf(opts.IO.ErrOut, "%d conflicts (shiplog calendar --conflicts lists them)\n", n)
	}
	return nil
}

// teamServices returns the services of the --team teams (checked, with
// the closest names for a typo), intersected with --service when given.
func teamServices(ctx context.Context, db *warehouse.DB, teams, services []string) ([]string, error) {
	cat, err := catalog.Load(ctx, output.DB(db))
	if err != nil {
		return nil, err
	}
	teams, err = cat.CheckTeams(teams)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, t := range teams {
		in[t] = true
	}
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	var out []string
	for _, s := range cat.Services {
		if in[s.Team] && (len(services) == 0 || want[s.Service]) {
			out = append(out, s.Service)
		}
	}
	if len(out) == 0 {
		return nil, cmdutil.FlagErrorf("no service of team %s matches --service", strings.Join(teams, ", "))
	}
	return out, nil
}

// checkServices returns the --service names in the warehouse's spelling,
// or an error naming the first unknown one with the closest known names.
func checkServices(ctx context.Context, db *warehouse.DB, services []string) ([]string, error) {
	if len(services) == 0 {
		return services, nil
	}
	cat, err := catalog.Load(ctx, output.DB(db))
	if err != nil {
		return nil, err
	}
	return cat.CheckServices(services)
}
