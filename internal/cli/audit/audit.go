// Package audit implements `shiplog audit`: run the governance controls for
// a period and print each control's counts and findings.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/internal/cli/query"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/server"
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
		Use:   "audit [--from D] [--to D] [--control NAME]... [--format table|json|csv] [--fail-on-findings]",
		Short: "Run the governance controls and list their findings",
		Long: `Run the governance controls (queries/controls) for a period with the
parameters of shiplog.yaml's controls section, and print per control how many
subjects it checked, how many failed and how many findings an exemption
covers, then every finding with its evidence.

--to is exclusive. --format json prints one document {controls, exemptions,
from, to}; csv prints one row per finding (and one per control without
findings) with the evidence as a JSON object. --fail-on-findings exits 1 when
any finding is not covered by an exemption.`,
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
			for _, c := range opts.Controls {
				if q, ok := queries.Get(c); !ok || !q.IsControl() {
					return cmdutil.FlagErrorf("--control: no control named %q", c)
				}
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
	cmd.Flags().StringVar(&from, "from", "", "start of the period (YYYY-MM-DD or RFC 3339, UTC)")
	cmd.Flags().StringVar(&to, "to", "", "end of the period, exclusive")
	cmd.Flags().StringArrayVar(&opts.Controls, "control", nil, "run only the control `NAME` (repeatable)")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, json or csv")
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
	aopts := audit.Options{From: opts.From, To: opts.To, Controls: opts.Controls, Now: now()}
	var db *warehouse.DB
	if opts.Server != "" {
		token, err := query.ServerToken(opts.Config, opts.Getenv)
		if err != nil {
			return err
		}
		aopts.Remote = func(ctx context.Context, sql string) (*output.Table, error) {
			return server.RemoteQuery(ctx, opts.Server, token, sql)
		}
	} else {
		if db, err = opts.Warehouse(ctx); err != nil {
			return err
		}
		defer db.Close()
	}
	res, err := audit.Run(ctx, db, cfg, aopts)
	if err != nil {
		return err
	}
	if err := write(opts, res); err != nil {
		return err
	}
	if opts.FailOnFindings && res.Failed() > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "audit: %d finding(s) not covered by an exemption\n", res.Failed())
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitError}
	}
	return nil
}

func write(opts *Options, res *audit.Result) error {
	w := opts.IO.Out
	switch opts.Format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res.Document())
	case "csv":
		return output.WriteCSV(w, res.LongTable())
	}
	tty := opts.IO.IsStdoutTTY()
	if err := output.Write(w, "table", res.Summary(), tty); err != nil {
		return err
	}
	for _, c := range res.Controls {
		if len(c.Findings) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %d finding(s), %d exempt\n", c.Name, len(c.Findings), c.Exempt)
		if err := output.Write(w, "table", res.FindingsTable(c), tty); err != nil {
			return err
		}
	}
	if len(res.Exemptions) > 0 {
		t := &output.Table{Columns: []string{"control", "subject", "reason", "expires", "expired", "matched"}}
		for _, e := range res.Exemptions {
			t.Rows = append(t.Rows, []any{e.Control, e.Subject, e.Reason, e.Expires, e.Expired, int64(e.Matched)})
		}
		fmt.Fprintf(w, "\nexemptions\n")
		return output.Write(w, "table", t, tty)
	}
	return nil
}
