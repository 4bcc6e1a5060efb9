// Package cdevents implements `shiplog ingest cdevents FILE...`: CDEvents
// in JSON Lines, as `shiplog serve` receives them on /api/v1/cdevents.
package cdevents

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	cdsrc "github.com/shiplog/shiplog/ingest/cdevents"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of `shiplog ingest cdevents`.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Now       func() time.Time

	Paths []string
}

// NewCmdCDEvents returns the command. runF replaces the run function in
// tests of flag parsing.
func NewCmdCDEvents(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "cdevents FILE...",
		Short: "Load CDEvents (JSON Lines of CloudEvents) into the warehouse",
		Long: `Load CDEvents from JSON Lines files: one CloudEvent in structured mode
({"specversion":"1.0","id":…,"source":…,"type":…,"data":{CDEvent}}) or one bare
CDEvent ({"context":…,"subject":…}) per line, as shiplog serve accepts them on
/api/v1/cdevents.

Every event is checked against the JSON schema of its type at CDEvents spec
v` + cdsrc.SpecVersion + `; one bad event fails the whole load with its file,
line and field, and nothing is written. Events of other CDEvents types
(taskrun, build, artifact …) are read and left out. An event whose source and
id are stored already is not stored again, so loading a file twice changes
nothing.

Deployments, rollbacks, pipeline outcomes, incidents and merged changes are
mapped with sources.cdevents (services, environments, pipelines,
default_severity); see docs/cdevents.md.`,
		Example: `  shiplog ingest cdevents events.jsonl
  shiplog ingest cdevents argo-*.jsonl tekton.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if strings.TrimSpace(a) == "" {
					return cmdutil.FlagErrorf("empty file name")
				}
			}
			opts.Paths = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	return cmd
}

// Run loads the files, records the run in ingest_runs and prints a summary
// on stderr.
func Run(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	src, err := cdsrc.New(cfg.Sources.CDEvents, cdsrc.WithFiles(opts.Paths...), cdsrc.WithClock(now))
	if err != nil {
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := src.Ingest(ctx, db, opts.IO.ErrOut); err != nil {
		return err
	}
	counts, err := cdsrc.CanonicalCounts(ctx, db)
	if err != nil {
		return err
	}
	var parts []string
	for _, t := range cdsrc.Tables {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
	}
	fmt.Fprintf(opts.IO.ErrOut, "cdevents: canonical rows: %s\n", strings.Join(parts, ", "))
	return nil
}
