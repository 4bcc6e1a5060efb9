// Package ingest wires the `shiplog ingest` noun: one subcommand per source.
package ingest

import (
	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cli/ingest/cdevents"
	ingestfile "github.com/shiplog/shiplog/internal/cli/ingest/file"
	"github.com/shiplog/shiplog/internal/cli/ingest/git"
	"github.com/shiplog/shiplog/internal/cli/ingest/github"
	"github.com/shiplog/shiplog/internal/cli/ingest/gitlab"
	"github.com/shiplog/shiplog/internal/cli/ingest/jira"
	"github.com/shiplog/shiplog/internal/cli/ingest/junit"
	"github.com/shiplog/shiplog/internal/cli/ingest/pagerduty"
	"github.com/shiplog/shiplog/internal/cmdutil"
)

// NewCmdIngest returns `shiplog ingest` with its sources.
func NewCmdIngest(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ingest <source>",
		Short: "Load data into the warehouse from files or sources",
	}
	// Each source adds its subcommand here.
	cmd.AddCommand(git.NewCmdGit(f, nil))
	cmd.AddCommand(junit.NewCmdJUnit(f, nil))
	cmd.AddCommand(jira.NewCmdJira(f, nil))
	cmd.AddCommand(github.NewCmdGitHub(f, nil))
	cmd.AddCommand(gitlab.NewCmdGitLab(f, nil))
	cmd.AddCommand(ingestfile.NewCmdFile(f, nil))
	cmd.AddCommand(pagerduty.NewCmdPagerDuty(f, nil))
	cmd.AddCommand(cdevents.NewCmdCDEvents(f, nil))
	addAll(cmd, f, nil)
	return cmd
}
