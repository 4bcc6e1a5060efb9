// Package gate implements `shiplog gate`: evaluate the release gate policy
// for a service and version, print GO or NO-GO with one line per criterion,
// record the decision, and exit 3 on NO-GO so that a pipeline stops.
package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/gate"
	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of a gate evaluation.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Now       func() time.Time

	Gate   gate.Options
	Format string
}

// NewCmdGate returns the gate command. runF replaces the run function in
// tests of flag parsing.
func NewCmdGate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config, Now: f.Now}
	cmd := &cobra.Command{
		Use:                   "gate --service S --version V [--commit SHA] [--change-request ID]\n        [--override-reason TEXT]",
		DisableFlagsInUseLine: true,
		Short:                 "Decide GO or NO-GO for a release from the gate policy",
		Long: `Evaluate the release gate policy (shiplog.yaml gate:) for one release of a
service: test pass rate across every ingested framework, required suites
green, no open blocking incident on the service or its dependencies, an
approved change request (--change-request names the one the release goes
out under; otherwise any request naming the service), the recent change
failure rate, and no freeze in force. Every criterion reads the marts, so
run 'shiplog transform' after ingesting. Prints GO or NO-GO with one line
per criterion and its evidence, and records the decision.

Exit status: 0 on GO, 3 on NO-GO. With --override-reason a NO-GO is recorded
as an override with that reason and exits 0; the audit lists it.`,
		Example: `  shiplog gate --service checkout --version 2.4.0
  shiplog gate --service checkout --version 2.4.0 --change-request CHG-1042
  shiplog gate --service checkout --version 2.4.1 \
      --override-reason "fixes INC-42, approved by CAB"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Gate.Service == "" {
				return cmdutil.FlagErrorf("--service is required")
			}
			if opts.Gate.Version == "" && opts.Gate.Commit == "" {
				return cmdutil.FlagErrorf("--version (or --commit) is required")
			}
			if cmd.Flags().Changed("override-reason") && opts.Gate.OverrideReason == "" {
				return cmdutil.FlagErrorf("--override-reason must not be empty")
			}
			if opts.Gate.Actor == "" && f.Getenv != nil {
				opts.Gate.Actor = f.Getenv("USER")
			}
			if err := output.CheckFormat(opts.Format, "text", "json"); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Gate.Service, "service", "", "service to release")
	cmd.Flags().StringVar(&opts.Gate.Version, "version", "", "version to release")
	cmd.Flags().StringVar(&opts.Gate.Commit, "commit", "", "commit SHA to release (its test runs count too)")
	cmd.Flags().StringVar(&opts.Gate.ChangeRequest, "change-request", "", "the change request the release goes out under (default: any naming the service)")
	cmd.Flags().StringVar(&opts.Gate.OverrideReason, "override-reason", "", "release despite a NO-GO, recording this reason")
	cmd.Flags().StringVar(&opts.Gate.Actor, "actor", "", "who decides (default $USER)")
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

// Run evaluates, records and prints the decision.
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
	cat, err := catalog.Load(ctx, output.DB(db))
	if err != nil {
		return err
	}
	known, err := cat.CheckServices([]string{opts.Gate.Service})
	if err != nil {
		return err
	}
	opts.Gate.Service = known[0]
	if opts.Now != nil {
		opts.Gate.Now = opts.Now()
	}
	d, err := gate.Run(ctx, db, cfg, opts.Gate)
	if err != nil {
		return err
	}
	if err := write(opts, d); err != nil {
		return err
	}
	if d.Decision == gate.NoGo {
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitNoGo}
	}
	return nil
}

func write(opts *Options, d *gate.Decision) error {
	w := opts.IO.Out
	if opts.Format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	release := d.Version
	if d.Commit != "" {
		if release != "" {
			release += " "
		}
		release += d.Commit
	}
	switch d.Decision {
	case gate.Go:
		fmt.Fprintf(w, "GO  %s %s\n", d.Service, release)
	case gate.NoGo:
		fmt.Fprintf(w, "NO-GO  %s %s\n", d.Service, release)
	case gate.Override:
		fmt.Fprintf(w, "GO (override of NO-GO)  %s %s\nreason: %s\n", d.Service, release, d.OverrideReason)
	}
	// one line per criterion, its evidence wrapped under itself on a
	// terminal
	width := 0
	if opts.IO.IsStdoutTTY() {
		width = opts.IO.TerminalWidth()
	}
	names := 0
	for _, c := range d.Criteria {
		names = max(names, len(c.Name))
	}
	for _, c := range d.Criteria {
		mark := "PASS"
		if !c.Passed {
			mark = "FAIL"
		}
		lead := fmt.Sprintf("  %s  %-*s  ", mark, names, c.Name)
		if _, err := fmt.Fprintln(w, lead+format.Wrap(c.Evidence, width, len(lead))); err != nil {
			return err
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "gate: decision %d recorded\n", d.ID)
	return nil
}
