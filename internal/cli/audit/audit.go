// Package audit implements `shiplog audit`: run the governance controls for
// a period and print each control's counts and findings.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/internal/cli/query"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/suggest"
	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/queries"
)

// Options are the inputs of an audit.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Now       func() time.Time

	From, To       time.Time
	Controls       []string
	Format         string
	Wide           bool
	FailOnFindings bool

	// Server, when set, is the HOST:PORT of a running `shiplog serve`'s
	// Flight SQL endpoint, asked instead of opening the file.
	Server string
	Getenv func(string) string
}

// NewCmdAudit returns the audit command. runF replaces the run function in
// tests of flag parsing.
func NewCmdAudit(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly, Config: f.Config, Now: f.Now, Getenv: f.Getenv}
	var from, to string
	cmd := &cobra.Command{
		Use:                   "audit [--from D] [--to D] [--control NAME]... [--fail-on-findings]",
		DisableFlagsInUseLine: true,
		Short:                 "Run the governance controls and list their findings",
		Long: `Run the governance controls (queries/controls) for a period with the
parameters of shiplog.yaml's controls section, and print per control how many
subjects it checked, how many failed and how many findings an exemption
covers, then every finding with its evidence.

--to is exclusive. Without --from and --to the audit covers the period
"shiplog report audit" takes: the last complete month with deployment data
(the last month with any, marked partial, when none is complete). The
period it covers and the data's coverage are said on stderr, and in
JSON as from, to, "period" and "coverage". --format json prints one document
{controls, exemptions, from, to, period, coverage}; csv prints one row per
finding (and one per control without findings) with the evidence as a JSON
object. On a terminal, tables fit the width (--wide shows every column).
--fail-on-findings exits 1 when any finding is not covered by an exemption.`,
		Example: `  shiplog audit --from 2026-01-01 --to 2026-04-01
  shiplog audit --control self-approval --format json
  shiplog audit --fail-on-findings --format csv > evidence.csv
  shiplog audit --server 127.0.0.1:8815`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if from != "" {
				if opts.From, err = queries.ParseTime(from); err != nil {
					return cmdutil.FlagErrorf("--from: %v", err)
				}
			}
			if to != "" {
				if opts.To, err = queries.ParseTime(to); err != nil {
					return cmdutil.FlagErrorf("--to: %v", err)
				}
			}
			if !opts.From.IsZero() && !opts.To.IsZero() && !opts.To.After(opts.From) {
				return cmdutil.FlagErrorf("--to must be after --from")
			}
			var names []string
			for _, q := range queries.List() {
				if q.IsControl() {
					names = append(names, q.Name)
				}
			}
			if _, err := suggest.CheckAll("control", opts.Controls, names); err != nil {
				return err
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
	cmd.Flags().StringVar(&from, "from", "", "start of the period (YYYY-MM-DD or RFC 3339, UTC; default: the last complete month with deployment data)")
	cmd.Flags().StringVar(&to, "to", "", "end of the period, exclusive")
	cmd.Flags().StringArrayVar(&opts.Controls, "control", nil, "run only the control `NAME` (repeatable)")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, tsv, json or csv")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "on a terminal, show every column, unfitted")
	cmd.Flags().StringVar(&opts.Server, "server", "", "ask the query endpoint of a running `shiplog serve` at `HOST:PORT` instead of opening the file")
	cmd.Flags().BoolVar(&opts.FailOnFindings, "fail-on-findings", false, "exit 1 when any finding is not exempt")
	return cmd
}

// Run runs the audit and prints it.
func Run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var db *warehouse.DB
	var q output.QueryFunc
	var remote output.QueryFunc
	if opts.Server != "" {
		token, err := query.ServerToken(opts.Config, opts.Getenv)
		if err != nil {
			return err
		}
		remote = func(ctx context.Context, sql string) (*output.Table, error) {
			return server.RemoteQuery(ctx, opts.Server, token, sql)
		}
		q = remote
	} else {
		if db, err = opts.Warehouse(ctx); err != nil {
			return err
		}
		defer db.Close()
		q = output.DB(db)
	}
	a, err := Compute(ctx, db, q, remote, cfg, now, opts.From, opts.To, opts.Controls)
	if err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		a.Coverage.Note(opts.IO.ErrOut, opts.IO.MessageWidth(), a.Period, a.What, auditKinds...)
	}
	res, period, cov, bounds := a.Result, a.Period, a.Coverage, a.Bounds
	if err := write(opts, res, period, cov, bounds); err != nil {
		return err
	}
	if opts.FailOnFindings && res.Failed() > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "audit: %d finding(s) not covered by an exemption\n", res.Failed())
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitError}
	}
	return nil
}

// Answer is an audit run with what its document states beside the
// controls.
type Answer struct {
	Result   *audit.Result
	Period   coverage.Period
	Coverage *coverage.Coverage
	// Bounds are the parameters the controls ran with (the from and to of
	// a period without data).
	Bounds map[string]string
	// What says how the period was chosen, for a note on a terminal.
	What string
}

// Compute is the one code path of `shiplog audit` and of the read API's
// audit: the period (the last complete month with deployment data unless
// from or to is given), the controls' results and the coverage. db may be
// nil when remote reads a running serve.
func Compute(ctx context.Context, db *warehouse.DB, q, remote output.QueryFunc, cfg *config.Config, now func() time.Time, from, to time.Time, controls []string) (*Answer, error) {
	cov, err := coverage.Load(ctx, q, now(), cfg.Reports.StaleAfter.D())
	if err != nil {
		return nil, err
	}
	// Without --from and --to, the period is the one `report audit` takes:
	// the last complete month with deployment data (coverage.DefaultKinds).
	givenFrom, givenTo := from, to
	what := ""
	if from.IsZero() && to.IsZero() {
		if def := cov.Default("month", coverage.DefaultKinds...); !def.From.IsZero() {
			from, to = def.From, def.To
			what = "the last complete month with deployment data; --from and --to choose"
			if def.State != coverage.Complete {
				what = "the last month with deployment data; --from and --to choose"
			}
		} else {
			what = "all data; --from and --to choose"
		}
	}
	aopts := audit.Options{From: from, To: to, Controls: controls, Now: now(), Remote: remote}
	res, err := audit.Run(ctx, db, cfg, aopts)
	if err != nil {
		return nil, err
	}
	// The period covered: as given, an open end from the data the controls
	// judge (deployments and change requests; a change's first commit may
	// be far older, a plan far later).
	period := cov.Period(from, to, auditKinds...)
	period.Default = givenFrom.IsZero() && givenTo.IsZero()
	// With no data to take an open end from, the bounds are those the
	// controls ran with.
	bounds, err := audit.Params(cfg, from, to, aopts.Now)
	if err != nil {
		return nil, err
	}
	// The result names its period (an open end is the data's), when it was
	// made, by which shiplog, and the data it read.
	for _, end := range []struct {
		t     *time.Time
		data  time.Time
		bound string
	}{{&res.From, period.From, bounds["from"]}, {&res.To, period.To, bounds["to"]}} {
		switch {
		case !end.t.IsZero():
		case !end.data.IsZero():
			*end.t = end.data
		default:
			*end.t, _ = queries.ParseTime(end.bound)
		}
	}
	res.Meta = audit.NewMeta(cov, version.Build().Version)
	return &Answer{Result: res, Period: period, Coverage: cov, Bounds: bounds, What: what}, nil
}

// Document is the JSON document of `shiplog audit --format json` and of
// GET /api/v1/audit.
func (a *Answer) Document() map[string]any {
	doc := a.Result.Document()
	// from and to are never null: an open end is the data's.
	for key, t := range map[string]time.Time{"from": a.Period.From, "to": a.Period.To} {
		switch {
		case doc[key] != nil:
		case !t.IsZero():
			doc[key] = t.UTC().Format(time.RFC3339)
		default:
			doc[key] = a.Bounds[key]
		}
	}
	doc["period"] = a.Period.Document()
	doc["coverage"] = a.Coverage.Document(auditKinds...)
	return doc
}

// stamp is t in RFC 3339 UTC, or fallback when t is zero.
func stamp(t time.Time, fallback string) string {
	if t.IsZero() {
		return fallback
	}
	return t.UTC().Format(time.RFC3339)
}

// auditKinds are the kinds whose range is the audit's period by default.
var auditKinds = []string{"deployment", "change_request"}

func write(opts *Options, res *audit.Result, period coverage.Period, cov *coverage.Coverage, bounds map[string]string) error {
	w := opts.IO.Out
	switch opts.Format {
	case "json":
		doc := (&Answer{Result: res, Period: period, Coverage: cov, Bounds: bounds}).Document()
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "csv":
		return output.WriteCSV(w, res.LongTable())
	case "tsv":
		return output.Print(w, res.LongTable(), output.Options{Format: "tsv"})
	}
	tf := cmdutil.TableFlags{Format: "table", Wide: opts.Wide}
	o := tf.Options(opts.IO, nil)
	width := 0 // the lines of text wrap on a terminal, as the tables fit it
	if opts.IO.IsStdoutTTY() {
		width = opts.IO.TerminalWidth()
	}
	fmt.Fprintf(w, "%s\n\n", format.Wrap(fmt.Sprintf("period %s to %s (end excluded); data fingerprint %s",
		stamp(period.From, bounds["from"]), stamp(period.To, bounds["to"]), res.Meta.Warehouse.Hash), width, 0))
	if err := output.Print(w, res.Summary(), o); err != nil {
		return err
	}
	pt := &output.Table{Columns: []string{"population", "subjects", "failed", "exempt", "controls"}}
	for _, p := range res.Populations() {
		pt.Rows = append(pt.Rows, []any{p.Name, p.Subjects, p.Failed, p.Exempt, strings.Join(p.Controls, ", ")})
	}
	fmt.Fprintf(w, "\n%s\n", format.Wrap("populations (counted apart: a deployment, a change request and a change are different things)", width, 0))
	if err := output.Print(w, pt, o); err != nil {
		return err
	}
	for _, c := range res.Controls {
		if len(c.Findings) == 0 {
			continue
		}
		listed := fmt.Sprintf("%d finding(s), %d exempt", c.Failed+c.Exempt, c.Exempt)
		if n := int64(len(c.Findings)) - c.Failed - c.Exempt; n > 0 {
			listed += fmt.Sprintf("; %d passed by override, listed for their evidence", n)
		}
		fmt.Fprintf(w, "\n%s\n", format.Wrap(c.Name+": "+listed, width, 0))
		if err := output.Print(w, res.FindingsTable(c), o); err != nil {
			return err
		}
	}
	if len(res.Exemptions) > 0 {
		t := &output.Table{Columns: []string{"id", "control", "subject", "reason", "expires", "expired", "matched"}}
		for _, e := range res.Exemptions {
			t.Rows = append(t.Rows, []any{e.ID, e.Control, e.Subject, e.Reason, e.Expires, e.Expired, int64(e.Matched)})
		}
		fmt.Fprintf(w, "\nexemptions\n")
		return output.Print(w, t, o)
	}
	return nil
}
