// Package demo wires `shiplog demo`: on its own it loads the embedded
// organisation, transforms it, prints the headline metrics and writes the
// reports (package run); `generate` writes datasets for benchmarks and
// experiments.
package demo

import (
	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cli/demo/generate"
	"github.com/shiplog/shiplog/internal/cli/demo/run"
	"github.com/shiplog/shiplog/internal/cmdutil"
)

// NewCmdDemo returns `shiplog demo` with its subcommands.
func NewCmdDemo(f *cmdutil.Factory) *cobra.Command {
	dir := "shiplog-demo"
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Demonstrate shiplog on a generated organisation",
		Long: `Demonstrate shiplog on a realistic generated organisation: five teams,
twelve services, six months of commits, pull requests, deployments, incidents,
change requests, support tickets, test runs and feature adoption.

The embedded organisation is loaded into a fresh warehouse in --dir, the
transforms run, a few release gate decisions are recorded, the headline
metrics are printed and every report is written; the command says where
everything went. The warehouse in --dir is rebuilt on each run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run.NewRunE(f, &dir)(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", dir, "folder for the warehouse, data, configuration and reports")
	cmd.AddCommand(generate.NewCmdGenerate(f, nil))
	return cmd
}
