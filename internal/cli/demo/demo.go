// Package demo wires the `shiplog demo` noun. Its own run (load the embedded
// organisation, transform, report) is added by the command that owns it;
// `generate` writes datasets for benchmarks and experiments.
package demo

import (
	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cli/demo/generate"
	"github.com/shiplog/shiplog/internal/cmdutil"
)

// NewCmdDemo returns `shiplog demo` with its subcommands. RunE is left nil
// so that the demo run can be attached without touching the subcommands.
func NewCmdDemo(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Demonstrate shiplog on a generated organisation",
		Long: `Demonstrate shiplog on a realistic generated organisation: five teams,
twelve services, six months of commits, pull requests, deployments, incidents,
change requests, support tickets, test runs and feature adoption.`,
	}
	cmd.AddCommand(generate.NewCmdGenerate(f, nil))
	return cmd
}
