// Package root builds the shiplog command tree. It is the one place that
// knows every verb.
package root

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shiplog/shiplog/internal/cli/audit"
	"github.com/shiplog/shiplog/internal/cli/calendar"
	"github.com/shiplog/shiplog/internal/cli/demo"
	"github.com/shiplog/shiplog/internal/cli/drift"
	"github.com/shiplog/shiplog/internal/cli/explain"
	exportcmd "github.com/shiplog/shiplog/internal/cli/export"
	"github.com/shiplog/shiplog/internal/cli/gate"
	"github.com/shiplog/shiplog/internal/cli/ingest"
	"github.com/shiplog/shiplog/internal/cli/initcmd"
	metricscmd "github.com/shiplog/shiplog/internal/cli/metrics"
	"github.com/shiplog/shiplog/internal/cli/query"
	"github.com/shiplog/shiplog/internal/cli/report"
	"github.com/shiplog/shiplog/internal/cli/serve"
	tokencmd "github.com/shiplog/shiplog/internal/cli/token"
	transformcmd "github.com/shiplog/shiplog/internal/cli/transform"
	trycmd "github.com/shiplog/shiplog/internal/cli/try"
	versioncmd "github.com/shiplog/shiplog/internal/cli/version"
	"github.com/shiplog/shiplog/internal/cmdutil"
)

// NewCmdRoot returns the root command wired to f.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	var showVersion bool
	cmd := &cobra.Command{
		Use:   "shiplog <command>",
		Short: "Release analytics and DORA metrics warehouse",
		Long: `shiplog pulls deployments, changes, incidents, change requests, support
tickets, test results and feature adoption into one DuckDB warehouse, computes
the DORA metrics and answers retrospective and audit questions.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if f.DBPath == "" {
				f.DBPath = os.Getenv("SHIPLOG_DB")
			}
			if f.ConfigPath == "" {
				f.ConfigPath = os.Getenv("SHIPLOG_CONFIG")
			}
			return nil
		},
		// `shiplog --version`; the bare command prints its help as before.
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				return versioncmd.PrintShort(cmd.Context(), f.IOStreams.Out, f.IOStreams.ErrOut)
			}
			return cmd.Help()
		},
	}
	cmd.Flags().BoolVar(&showVersion, "version", false, "print the version and exit")
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)
	cmd.PersistentFlags().StringVar(&f.DBPath, "db", "", "warehouse file (env SHIPLOG_DB; default shiplog.duckdb)")
	cmd.PersistentFlags().StringVar(&f.ConfigPath, "config", "", "configuration file (env SHIPLOG_CONFIG; default shiplog.yaml if present)")
	fitHelp(cmd, f.IOStreams.TerminalWidth)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})

	// One line per verb; keep in DESIGN.md's order.
	cmd.AddCommand(demo.NewCmdDemo(f))
	cmd.AddCommand(trycmd.NewCmdTry(f, nil))
	cmd.AddCommand(initcmd.NewCmdInit(f, nil))
	cmd.AddCommand(ingest.NewCmdIngest(f))
	cmd.AddCommand(transformcmd.NewCmdTransform(f, nil))
	cmd.AddCommand(metricscmd.NewCmdMetrics(f, nil))
	cmd.AddCommand(explain.NewCmdExplain(f, nil))
	cmd.AddCommand(query.NewCmdQuery(f, nil))
	cmd.AddCommand(calendar.NewCmdCalendar(f, nil))
	cmd.AddCommand(drift.NewCmdDrift(f, nil))
	cmd.AddCommand(report.NewCmdReport(f))
	cmd.AddCommand(audit.NewCmdAudit(f, nil))
	cmd.AddCommand(gate.NewCmdGate(f, nil))
	cmd.AddCommand(serve.NewCmdServe(f, nil))
	cmd.AddCommand(exportcmd.NewCmdExport(f, nil))
	cmd.AddCommand(versioncmd.NewCmdVersion(f, nil))
	cmd.AddCommand(tokencmd.NewCmdToken(f))
	return cmd
}

// fitHelp makes the help of cmd and every command under it fit the
// terminal (width; 80 columns when the help is not going to one): the
// flags' usages are wrapped in their column, as pflag's FlagUsagesWrapped
// does, instead of running on in one line each. The rest of cobra's usage
// template is kept; the texts it prints as written (descriptions, use
// lines, examples) are written to fit 80 columns, which
// TestHelpFitsTheTerminal holds them to.
func fitHelp(cmd *cobra.Command, width func() int) {
	cobra.AddTemplateFunc("wrappedFlagUsages", func(fs *pflag.FlagSet) string {
		return fs.FlagUsagesWrapped(width())
	})
	t := cmd.UsageTemplate()
	for _, set := range []string{"LocalFlags", "InheritedFlags"} {
		t = strings.ReplaceAll(t, "{{."+set+".FlagUsages ", "{{wrappedFlagUsages ."+set+" ")
	}
	cmd.SetUsageTemplate(t)
}
