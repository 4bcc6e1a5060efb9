// Package jira implements `shiplog ingest jira`: fetch incidents, change
// requests, support tickets and fix versions from Jira Cloud or Data Center
// into the warehouse, then map them to the canonical tables.
package jira

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/ingest"
	jirasrc "github.com/shiplog/shiplog/ingest/jira"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of one Jira ingest run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	Getenv    func(string) string
	Now       func() time.Time
	// SourceOptions are passed to jira.New (tests inject retry sleeps).
	SourceOptions []jirasrc.Option

	// Flag values; a set flag overrides sources.jira in the configuration.
	URL               string
	Flavor            string
	User              string
	TokenEnv          string
	IncidentsJQL      string
	ChangeRequestsJQL string
	SupportTicketsJQL string
	ReleaseProjects   []string
	Overlap           time.Duration
	PageSize          int
	Since             string
	Full              bool

	set func(name string) bool
}

// NewCmdJira returns `shiplog ingest jira`. runF replaces the run function
// in tests of flag parsing.
func NewCmdJira(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Config: f.Config, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "jira",
		Short: "Fetch Jira incidents, change requests, support tickets, releases",
		Long: `Fetch issues from Jira Cloud or Jira Data Center (REST API v2) into the
warehouse and map them to incidents, change_requests, approvals,
support_tickets and release_plans.

Settings come from sources.jira in shiplog.yaml; flags override them. The token
is read from the environment variable named by token_env (--token-env), never
from a flag: with a user it is sent as basic auth (a Cloud API token), without
one as a bearer token (a Data Center personal access token).

Each run fetches only the issues updated since the previous run, less a safety
overlap (default 5m). --full fetches everything again and reports, on stderr
and in ingest_runs.cursor, stored issues that were deleted, moved to another
key or no longer match their JQL; those are no longer mapped.`,
		Example: `  JIRA_TOKEN=... shiplog ingest jira
  shiplog ingest jira --url https://acme.atlassian.net --user ops-bot@acme.com \
      --token-env JIRA_TOKEN \
      --incidents-jql "project = OPS AND issuetype = Incident"
  shiplog ingest jira --full`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.set = func(name string) bool { return cmd.Flags().Changed(name) }
			if opts.Flavor != "" && opts.Flavor != "cloud" && opts.Flavor != "datacenter" {
				return cmdutil.FlagErrorf("--flavor %q: use cloud or datacenter", opts.Flavor)
			}
			if opts.Since != "" {
				if _, err := parseSince(opts.Since); err != nil {
					return cmdutil.FlagErrorf("--since: %v", err)
				}
				if opts.Full {
					return cmdutil.FlagErrorf("--since and --full cannot be combined: a full sync reads every issue")
				}
			}
			if opts.PageSize < 0 || opts.PageSize > 1000 {
				return cmdutil.FlagErrorf("--page-size %d: use 1 to 1000", opts.PageSize)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "Jira base address (https://acme.atlassian.net)")
	fl.StringVar(&opts.Flavor, "flavor", "", "cloud or datacenter (default: cloud for *.atlassian.net)")
	fl.StringVar(&opts.User, "user", "", "account for basic auth (Cloud); omit for a bearer token")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "environment variable holding the token")
	fl.StringVar(&opts.IncidentsJQL, "incidents-jql", "", "JQL selecting incidents")
	fl.StringVar(&opts.ChangeRequestsJQL, "change-requests-jql", "", "JQL selecting change requests")
	fl.StringVar(&opts.SupportTicketsJQL, "support-tickets-jql", "", "JQL selecting support tickets")
	fl.StringSliceVar(&opts.ReleaseProjects, "release-projects", nil, "project keys whose fix versions are release plans")
	fl.DurationVar(&opts.Overlap, "overlap", 0, "how far before the saved cursor to start again (default 5m)")
	fl.IntVar(&opts.PageSize, "page-size", 0, "issues per search request (default 100)")
	fl.StringVar(&opts.Since, "since", "", "fetch issues updated since this date or time, ignoring the cursor")
	fl.BoolVar(&opts.Full, "full", false, "fetch every issue and report deleted, moved or no longer matching ones")
	return cmd
}

func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2024-03-01) or RFC 3339 time", s)
}

// effectiveConfig merges the flags over sources.jira.
func effectiveConfig(opts *Options) (*config.Jira, error) {
	cfg, err := opts.Config()
	if err != nil {
		return nil, err
	}
	var j config.Jira
	if cfg.Sources.Jira != nil {
		j = *cfg.Sources.Jira
	}
	set := opts.set
	if set == nil {
		set = func(string) bool { return false }
	}
	if set("url") {
		j.URL = opts.URL
	}
	if set("flavor") {
		j.Flavor = opts.Flavor
	}
	if set("user") {
		j.User = opts.User
	}
	if set("token-env") {
		j.TokenEnv = opts.TokenEnv
	}
	if set("overlap") {
		j.Overlap = config.Duration(opts.Overlap)
	}
	if set("page-size") {
		j.PageSize = opts.PageSize
	}
	if set("incidents-jql") {
		in := config.JiraIncidents{}
		if j.Incidents != nil {
			in = *j.Incidents
		}
		in.JQL = opts.IncidentsJQL
		j.Incidents = &in
	}
	if set("change-requests-jql") {
		cr := config.JiraChangeRequests{}
		if j.ChangeRequests != nil {
			cr = *j.ChangeRequests
		}
		cr.JQL = opts.ChangeRequestsJQL
		j.ChangeRequests = &cr
	}
	if set("support-tickets-jql") {
		st := config.JiraSupportTickets{}
		if j.SupportTickets != nil {
			st = *j.SupportTickets
		}
		st.JQL = opts.SupportTicketsJQL
		j.SupportTickets = &st
	}
	if set("release-projects") {
		r := config.JiraReleases{}
		if j.Releases != nil {
			r = *j.Releases
		}
		r.Projects = opts.ReleaseProjects
		j.Releases = &r
	}
	if j.URL == "" {
		return nil, errors.New("jira: not configured: add sources.jira to shiplog.yaml or pass --url and a JQL flag")
	}
	return &j, nil
}

// Run fetches, stores and maps, recording the run in ingest_runs and
// printing a summary on stderr.
func Run(ctx context.Context, opts *Options) error {
	cfg, err := effectiveConfig(opts)
	if err != nil {
		return err
	}
	srcOpts := append([]jirasrc.Option{jirasrc.WithFull(opts.Full)}, opts.SourceOptions...)
	if opts.Since != "" {
		t, err := parseSince(opts.Since)
		if err != nil {
			return cmdutil.FlagErrorf("--since: %v", err)
		}
		srcOpts = append(srcOpts, jirasrc.WithSince(t))
	}
	src, err := jirasrc.New(cfg, opts.Getenv, srcOpts...)
	if err != nil {
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return RunSource(ctx, db, src, opts.IO, opts.Now)
}

// RunSource runs one sync of src (ingest.Run records it in ingest_runs)
// and prints its summary.
func RunSource(ctx context.Context, db *warehouse.DB, src *jirasrc.Source, io *iostreams.IOStreams, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	started := now()
	run, err := ingest.Run(ctx, src, &ingest.Env{DB: db, Now: now, Progress: io.ErrOut})
	if err != nil {
		return err
	}
	counts, err := jirasrc.CanonicalCounts(ctx, db)
	if err != nil {
		return err
	}
	var parts []string
	for _, t := range jirasrc.Tables {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
	}
	fmt.Fprintf(io.ErrOut, "jira: %d records read in %d requests (%s); canonical rows: %s\n",
		run.Read, src.Requests(), now().Sub(started).Round(time.Millisecond), strings.Join(parts, ", "))
	if len(src.Gone) > 0 {
		fmt.Fprintf(io.ErrOut, "jira: %d issue(s) reported gone (see above and ingest_runs.cursor)\n", len(src.Gone))
	}
	return nil
}
