// Package pagerduty implements `shiplog ingest pagerduty`: fetch incidents
// and their log entries from PagerDuty into the warehouse and map them to
// incidents.
package pagerduty

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	pdsrc "github.com/shiplog/shiplog/ingest/pagerduty"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of one `shiplog ingest pagerduty` run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Getenv    func(string) string
	Now       func() time.Time
	// SourceOptions are passed to the source (tests: HTTP client, sleeps).
	SourceOptions []pdsrc.Option

	// Flags; a flag that was given replaces the configuration's value.
	APIURL string
	Since  string
	Full   bool

	changed func(string) bool
}

// NewCmdPagerDuty returns the command. runF replaces the run function in
// tests of flag parsing.
func NewCmdPagerDuty(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "pagerduty",
		Short: "Fetch incidents from PagerDuty",
		Long: `Fetch incidents from the PagerDuty REST API v2, with their priority, urgency
and log entries (for the time each was first acknowledged and resolved), and
map them to incidents: the service through sources.pagerduty.services, the
severity through sources.pagerduty.severity (see docs/pagerduty.md).

Settings come from sources.pagerduty in shiplog.yaml (it may be absent: the
defaults then apply); the flags replace them for this run. The API key is read
from the variable named by token_env (default PAGERDUTY_TOKEN), never from a
flag, and is sent only to api_url's host.

Each run reads again every incident created since the oldest one still open
at the end of the previous run (less a 10-minute overlap), so later
acknowledgements and resolutions are seen; log entries are read only for
incidents whose updated_at moved. --since reads from a date instead; --full
ignores the saved cursor and starts from sources.pagerduty.since (default a
year ago).`,
		Example: `  PAGERDUTY_TOKEN=... shiplog ingest pagerduty
  shiplog ingest pagerduty --since 2025-01-01
  shiplog ingest pagerduty --api-url https://api.eu.pagerduty.com --full`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.changed = cmd.Flags().Changed
			if opts.Since != "" {
				if _, err := config.ParseSince(opts.Since); err != nil {
					return cmdutil.FlagErrorf("--since: %v", err)
				}
				if opts.Full {
					return cmdutil.FlagErrorf("--since and --full cannot be combined: --full starts from sources.pagerduty.since")
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.APIURL, "api-url", "", "REST API root (default https://api.pagerduty.com; EU: https://api.eu.pagerduty.com)")
	fl.StringVar(&opts.Since, "since", "", "read incidents created since this date or RFC 3339 time, ignoring the cursor")
	fl.BoolVar(&opts.Full, "full", false, "ignore the saved cursor and read again from sources.pagerduty.since")
	return cmd
}

// Merged returns sources.pagerduty with the given flags applied.
func (o *Options) Merged() (*config.PagerDuty, error) {
	cfg, err := o.Config()
	if err != nil {
		return nil, err
	}
	p := config.PagerDuty{}
	if cfg.Sources.PagerDuty != nil {
		p = *cfg.Sources.PagerDuty
	}
	if o.changed != nil && o.changed("api-url") {
		p.APIURL = o.APIURL
	}
	p.ApplyDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Run fetches, maps, records the run in ingest_runs and prints a summary on
// stderr.
func Run(ctx context.Context, opts *Options) error {
	p, err := opts.Merged()
	if err != nil {
		return err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sopts := append([]pdsrc.Option{pdsrc.WithClock(now), pdsrc.WithProgress(opts.IO.ErrOut), pdsrc.WithFull(opts.Full)}, opts.SourceOptions...)
	if opts.Since != "" {
		t, _ := config.ParseSince(opts.Since)
		sopts = append(sopts, pdsrc.WithSince(t))
	}
	src, err := pdsrc.New(p, opts.Getenv, sopts...)
	if err != nil {
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	start := now()
	_, err = src.Ingest(ctx, db, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	st := src.Stats()
	n, err := pdsrc.Count(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "pagerduty: done in %s: %d requests (%d retries, %d rate-limit waits); %d incidents in the warehouse\n",
		now().Sub(start).Round(time.Millisecond), st.Requests, st.Retries, st.RateWaits, n)
	return nil
}
