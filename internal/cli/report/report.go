// Package report implements `shiplog report`: static HTML reports
// (leadership, retro, audit, all), any dashboard spec, and the check of an
// archive's hash chain.
package report

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/calendar"
	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/reports"
)

// Environment variables of the archive's signature. The private key is
// read from the environment only, never from a flag.
const (
	SigningKeyEnv = "ARCHIVE_SIGNING_KEY"
	PublicKeyEnv  = "ARCHIVE_PUBLIC_KEY"
)

// Options are the inputs of one report command.
type Options struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Config func() (*config.Config, error)
	Getenv func(string) string
	// Data opens the data layer; the returned func releases it.
	Data func(ctx context.Context) (reports.Data, func() error, error)
	// Warehouse opens the warehouse read-write, to record archive runs in
	// archive_runs.
	Warehouse func(ctx context.Context) (*warehouse.DB, error)

	// Kinds are the reports to write (leadership, retro, audit).
	Kinds []string
	// Dashboard names the spec of `report dashboard`.
	Dashboard string
	// Dir is the archive folder of `report verify`; Expect the head it
	// must have and PublicKeyFile the key its signature must verify with.
	Dir           string
	Expect        string
	PublicKeyFile string

	Out      string
	Team     string
	From, To time.Time
	Archive  string
	// Commentary is a Markdown file for the leadership pages (replaces
	// reports.commentary).
	Commentary string
}

// NewCmdReport returns the report noun with its verbs.
func NewCmdReport(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report <command>",
		Short: "Write static HTML reports and dashboards",
		Long: `Write static HTML reports that open from disk with no network: the
leadership report (DORA metrics per organisation and team), the retrospective
(timeline, bottlenecks, failures, incidents, support, adoption) and the audit
report (governance controls with their evidence). --archive keeps a copy in a
tamper-evident archive that "report verify" checks.`,
	}
	for _, k := range []struct{ name, short string }{
		{reports.Leadership, "Leadership report: the DORA metrics with tiers, trend and risks"},
		{reports.Retro, "Retrospective report for a team and a period"},
		{reports.Audit, "Audit report: controls, findings and the data fingerprint"},
		{"all", "Every report and the index"},
	} {
		cmd.AddCommand(NewCmdWrite(f, k.name, k.short, nil))
	}
	cmd.AddCommand(NewCmdDashboard(f, nil))
	cmd.AddCommand(NewCmdVerify(f, nil))
	return cmd
}

func newOptions(f *cmdutil.Factory) *Options {
	return &Options{
		IO:        f.IOStreams,
		Now:       f.Now,
		Config:    f.Config,
		Getenv:    f.Getenv,
		Data:      func(ctx context.Context) (reports.Data, func() error, error) { return OpenData(ctx, f) },
		Warehouse: f.Warehouse,
	}
}

type dateFlags struct{ out, team, from, to, archive, commentary string }

func (d *dateFlags) register(cmd *cobra.Command, archive bool) {
	cmd.Flags().StringVar(&d.out, "out", "", "folder to write the pages to (required)")
	cmd.Flags().StringVar(&d.team, "team", "", "one team only (default: the organisation, with a page per team)")
	cmd.Flags().StringVar(&d.from, "from", "", "start of the period, YYYY-MM-DD or RFC 3339 (default: the last complete month with deployment data)")
	cmd.Flags().StringVar(&d.to, "to", "", "end of the period, excluded, YYYY-MM-DD or RFC 3339")
	cmd.Flags().StringVar(&d.commentary, "commentary", "", "Markdown `FILE` shown on the leadership pages (default: reports.commentary)")
	if archive {
		cmd.Flags().StringVar(&d.archive, "archive", "", "also copy the pages into a dated folder of this archive, chain the run in its manifest (signed when "+SigningKeyEnv+" is set) and record it in the warehouse")
	}
}

func (d *dateFlags) apply(opts *Options) error {
	if d.out == "" {
		return cmdutil.FlagErrorf("--out is required")
	}
	opts.Out, opts.Team, opts.Archive, opts.Commentary = d.out, d.team, d.archive, d.commentary
	var err error
	if opts.From, err = parseTime("--from", d.from); err != nil {
		return err
	}
	if opts.To, err = parseTime("--to", d.to); err != nil {
		return err
	}
	if !opts.From.IsZero() && !opts.To.IsZero() && !opts.From.Before(opts.To) {
		return cmdutil.FlagErrorf("--from %s is not before --to %s", d.from, d.to)
	}
	return nil
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, cmdutil.FlagErrorf("%s: %q is not a date (YYYY-MM-DD) or an RFC 3339 time", flag, s)
}

// NewCmdWrite returns the command that writes one report kind, or every
// kind for "all".
func NewCmdWrite(f *cmdutil.Factory, kind, short string, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	var d dateFlags
	cmd := &cobra.Command{
		Use:     kind + " --out DIR",
		Short:   short,
		Args:    cobra.NoArgs,
		Example: fmt.Sprintf("  shiplog report %s --out site --from 2026-10-01 --to 2026-11-01", kind),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := d.apply(opts); err != nil {
				return err
			}
			opts.Kinds = []string{kind}
			if kind == "all" {
				opts.Kinds = reports.Kinds
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunWrite(cmd.Context(), opts)
		},
	}
	d.register(cmd, true)
	return cmd
}

// RunWrite renders the reports, archives them when asked, and prints the
// index path.
func RunWrite(ctx context.Context, opts *Options) error {
	ropts, err := opts.reportOptions()
	if err != nil {
		return err
	}
	key, err := opts.signingKey()
	if err != nil {
		return err
	}
	data, closeData, err := opts.Data(ctx)
	if err != nil {
		return err
	}
	if ropts.Team, err = checkTeam(ctx, data, ropts.Team); err != nil {
		closeData()
		return err
	}
	if ropts.Leadership.Targets.Teams, err = checkTargetTeams(ctx, data, ropts.Leadership.Targets.Teams); err != nil {
		closeData()
		return err
	}
	res, err := reports.Write(ctx, data, ropts, opts.Kinds...)
	// The read-only warehouse is closed before the archive run opens it
	// to write.
	if cerr := closeData(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return opts.finish(ctx, res, strings.Join(opts.Kinds, ","), key)
}

func (opts *Options) reportOptions() (reports.Options, error) {
	ro := reports.Options{Out: opts.Out, Team: opts.Team, From: opts.From, To: opts.To, Now: opts.Now(), Progress: opts.IO.ErrOut, ProgressWidth: opts.IO.MessageWidth()}
	cfg, err := opts.Config()
	if err != nil {
		return ro, err
	}
	if dir := cfg.Reports.DashboardsDir; dir != "" {
		if !filepath.IsAbs(dir) && cfg.Path != "" {
			dir = filepath.Join(filepath.Dir(cfg.Path), dir)
		}
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			return ro, fmt.Errorf("reports.dashboards_dir: %s is not a folder", dir)
		}
		ro.Dashboards = []fs.FS{os.DirFS(dir)}
	}
	if ro.Leadership, err = LeadershipOptions(cfg, opts.Commentary); err != nil {
		return ro, err
	}
	if ro.Freezes, err = Freezes(cfg); err != nil {
		return ro, err
	}
	return ro, nil
}

// Freezes are the configured freezes (calendar.freezes) as the reports
// draw them.
func Freezes(cfg *config.Config) ([]reports.Freeze, error) {
	rules, err := calendar.NewRules(&cfg.Calendar)
	if err != nil {
		return nil, err
	}
	var out []reports.Freeze
	for _, f := range rules.Freezes {
		out = append(out, reports.Freeze{Name: f.Name, Start: f.Start, End: f.End})
	}
	return out, nil
}

// LeadershipOptions reads the leadership report's settings: bands,
// targets, the commentary file (commentary, else reports.commentary
// relative to the configuration file), the score, the major incident
// severities and the deployment frequency tier's basis.
func LeadershipOptions(cfg *config.Config, commentary string) (reports.LeadershipOptions, error) {
	lo := reports.LeadershipOptions{
		Bands:           cfg.Reports.NoChangeBand,
		QuickCheck:      cfg.Reports.QuickCheck,
		MajorSeverities: cfg.Metrics.FailureSeverities,
		Targets:         reports.Targets{Org: cfg.Reports.Targets.MetricTargets.Values()},
	}
	for team, t := range cfg.Reports.Targets.Teams {
		if lo.Targets.Teams == nil {
			lo.Targets.Teams = map[string]map[string]float64{}
		}
		lo.Targets.Teams[team] = t.Values()
	}
	if set, err := cfg.BenchmarkSet(); err == nil {
		bounds := set.DeploymentDaysPerWeek
		lo.FrequencyBasis = func(tier string) string { return metrics.FrequencyBasis(bounds, tier) }
	}
	file, flag := commentary, "--commentary"
	if file == "" && cfg.Reports.Commentary != "" {
		file, flag = cfg.Reports.Commentary, "reports.commentary"
		if !filepath.IsAbs(file) && cfg.Path != "" {
			file = filepath.Join(filepath.Dir(cfg.Path), file)
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return lo, fmt.Errorf("%s: %w", flag, err)
		}
		if !utf8.Valid(b) {
			return lo, fmt.Errorf("%s: %s is not UTF-8 text", flag, file)
		}
		lo.Commentary = string(b)
	}
	return lo, nil
}

// signingKey reads ARCHIVE_SIGNING_KEY when the run archives; nil when it
// is not set. It is read before any page is rendered, so a bad key fails
// the command before anything is written.
func (opts *Options) signingKey() (ed25519.PrivateKey, error) {
	if opts.Archive == "" || opts.Getenv == nil {
		return nil, nil
	}
	s := opts.Getenv(SigningKeyEnv)
	if s == "" {
		return nil, nil
	}
	key, err := reports.ParseSigningKey(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (want an Ed25519 key: PEM \"PRIVATE KEY\" as openssl genpkey -algorithm ed25519 writes it, or its DER in base64; see docs/reports.md)", SigningKeyEnv, err)
	}
	return key, nil
}

func (opts *Options) finish(ctx context.Context, res *reports.Result, what string, key ed25519.PrivateKey) error {
	if opts.Archive != "" {
		if err := opts.archive(ctx, res, what, key); err != nil {
			return err
		}
	}
	fmt.Fprintln(opts.IO.Out, res.Index)
	return nil
}

// archive appends the written files to the archive as one run and records
// the run in the warehouse. The warehouse is opened first, so that a busy
// warehouse fails the run before the archive changes, and its last head
// for this folder must still be in the manifest.
func (opts *Options) archive(ctx context.Context, res *reports.Result, what string, key ed25519.PrivateKey) error {
	abs, err := filepath.Abs(opts.Archive)
	if err != nil {
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return fmt.Errorf("archive: the run is recorded in the warehouse: %w", err)
	}
	defer db.Close()
	known, err := lastHead(ctx, db, abs)
	if err != nil {
		return err
	}
	run, err := reports.Archive(opts.Out, res.Files, opts.Archive, reports.ArchiveOptions{Now: opts.Now(), Key: key, Known: known})
	if err != nil {
		return err
	}
	signed := "unsigned"
	if run.Signed {
		signed = "signed with key " + reports.KeyFingerprint(key.Public().(ed25519.PublicKey))
	}
	fmt.Fprintf(opts.IO.ErrOut, "archived %d files in %s (run %d, %s)\n", run.Files, filepath.Join(opts.Archive, run.Folder), run.Seq, signed)
	fmt.Fprintf(opts.IO.ErrOut, "archive head %s\n", run.Head)
	if err := recordRun(ctx, db, abs, what, res, run); err != nil {
		return fmt.Errorf("archive run %s was appended (head %s) but not recorded in the warehouse: %w", run.Folder, run.Head, err)
	}
	return nil
}

// lastHead returns the head recorded by the last archive run into dir, if
// any.
func lastHead(ctx context.Context, db *warehouse.DB, dir string) ([]string, error) {
	var head string
	err := db.QueryRowContext(ctx, `SELECT head FROM archive_runs WHERE archive_dir = ? ORDER BY id DESC LIMIT 1`, dir).Scan(&head)
	switch {
	case err == nil:
		return []string{head}, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	}
	return nil, fmt.Errorf("archive: read archive_runs: %w", err)
}

func recordRun(ctx context.Context, db *warehouse.DB, dir, what string, res *reports.Result, run *reports.ArchiveRun) error {
	_, err := db.ExecContext(ctx, `INSERT INTO archive_runs
		(archived_at, archive_dir, run_folder, reports, period_from, period_to, file_count, seq, previous_head, head, signed, shiplog_version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.Time, dir, run.Folder, what, nullTime(res.From), nullTime(res.To), run.Files, run.Seq, run.PrevHead, run.Head, run.Signed, version.Build().Version)
	return err
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// NewCmdDashboard returns `report dashboard NAME`.
func NewCmdDashboard(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	var d dateFlags
	cmd := &cobra.Command{
		Use:   "dashboard NAME --out DIR",
		Short: "Render a dashboard spec, built in or from reports.dashboards_dir",
		Long: `Render one dashboard spec as a static HTML page. Specs are YAML files: a
list of panels, each a named query (or the metrics engine) and a chart type
(kpi, line, bar, stacked_bar, heatmap, table). Specs in the folder named by
reports.dashboards_dir in shiplog.yaml are searched before the built-in ones.`,
		Example: "  shiplog report dashboard teams --out site",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := d.apply(opts); err != nil {
				return err
			}
			opts.Dashboard = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunDashboard(cmd.Context(), opts)
		},
	}
	d.register(cmd, true)
	return cmd
}

// RunDashboard renders one spec.
func RunDashboard(ctx context.Context, opts *Options) error {
	ropts, err := opts.reportOptions()
	if err != nil {
		return err
	}
	spec, err := dashboards.Find(opts.Dashboard, ropts.Dashboards...)
	if err != nil {
		return err
	}
	key, err := opts.signingKey()
	if err != nil {
		return err
	}
	data, closeData, err := opts.Data(ctx)
	if err != nil {
		return err
	}
	if ropts.Team, err = checkTeam(ctx, data, ropts.Team); err != nil {
		closeData()
		return err
	}
	res, err := reports.WriteDashboard(ctx, data, ropts, spec)
	if cerr := closeData(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return opts.finish(ctx, res, "dashboard:"+spec.Name, key)
}

// NewCmdVerify returns `report verify DIR`.
func NewCmdVerify(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f)
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check an archive's files, manifest, hash chain and signature",
		Long: `Check a report archive: every manifest entry chains to the one before, every
run's SHA256SUMS has the digest its entry records, every file has the digest
its SHA256SUMS lists, and no file is present without being listed.

The chain alone cannot show that the last runs were removed together with
their manifest lines: give the head kept from the archive run (--expect, or
the head column of the warehouse's archive_runs), or the public key of a
signed archive (--public-key FILE, or ` + PublicKeyEnv + `).

On success prints the head hash on stdout; otherwise one line per problem,
and exits 1.`,
		Example: `  shiplog report verify evidence
  shiplog report verify evidence --expect 3b1f…e9 --public-key archive-pub.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if given := opts.Expect; given != "" {
				opts.Expect = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(given)), "sha256:")
				if len(opts.Expect) != 64 || strings.Trim(opts.Expect, "0123456789abcdef") != "" {
					return cmdutil.FlagErrorf("--expect: %q is not a head hash (64 hex digits)", given)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunVerify(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Expect, "expect", "", "the head hash the archive must have (printed by the archive run, kept in archive_runs)")
	cmd.Flags().StringVar(&opts.PublicKeyFile, "public-key", "", "Ed25519 public key (PEM) the manifest's signature must verify with (default: $"+PublicKeyEnv+")")
	return cmd
}

// publicKey reads the key of --public-key, else of ARCHIVE_PUBLIC_KEY;
// nil when neither is given.
func (opts *Options) publicKey() (ed25519.PublicKey, error) {
	if opts.PublicKeyFile != "" {
		b, err := os.ReadFile(opts.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--public-key: %w", err)
		}
		k, err := reports.ParsePublicKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("--public-key %s: %v (want PEM \"PUBLIC KEY\" as openssl pkey -pubout writes it)", opts.PublicKeyFile, err)
		}
		return k, nil
	}
	if opts.Getenv == nil {
		return nil, nil
	}
	if s := opts.Getenv(PublicKeyEnv); s != "" {
		k, err := reports.ParsePublicKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v (want PEM \"PUBLIC KEY\" or its DER in base64)", PublicKeyEnv, err)
		}
		return k, nil
	}
	return nil, nil
}

// RunVerify checks the archive and reports what it found.
func RunVerify(ctx context.Context, opts *Options) error {
	pub, err := opts.publicKey()
	if err != nil {
		return err
	}
	v, err := reports.VerifyArchive(opts.Dir, reports.VerifyOptions{Expect: opts.Expect, PublicKey: pub})
	if err != nil {
		return err
	}
	for _, p := range v.Problems {
		fmt.Fprintln(opts.IO.Out, p)
	}
	if !v.Intact() {
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitError, Msg: fmt.Sprintf("archive %s: %d problem(s) found", opts.Dir, len(v.Problems))}
	}
	var checks []string
	if opts.Expect != "" {
		checks = append(checks, "head as expected")
	}
	switch {
	case v.SignatureChecked:
		checks = append(checks, "signature good (key "+reports.KeyFingerprint(pub)+")")
	case v.Signed:
		checks = append(checks, "signed, signature not checked (no --public-key)")
	default:
		checks = append(checks, "not signed")
	}
	fmt.Fprintf(opts.IO.ErrOut, "archive %s: intact, %d run(s), %d file(s); %s\n", opts.Dir, v.Runs, v.Files, strings.Join(checks, "; "))
	if opts.Expect == "" && !v.SignatureChecked {
		fmt.Fprintf(opts.IO.ErrOut, "note: without --expect or --public-key, runs removed from the end of the archive with their manifest lines go unnoticed\n")
	}
	fmt.Fprintln(opts.IO.Out, v.Head)
	return nil
}

// checkTargetTeams returns the teams of reports.targets.teams in the
// warehouse's spelling, or an error naming an unknown one with the closest
// known teams: a target for a misspelt team would silently never apply.
func checkTargetTeams(ctx context.Context, data reports.Data, targets map[string]map[string]float64) (map[string]map[string]float64, error) {
	if len(targets) == 0 {
		return targets, nil
	}
	t, err := data.Query(ctx, "report-service-teams", nil)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	known, err := catalog.FromTable(t).CheckTeams(names)
	if err != nil {
		return nil, fmt.Errorf("reports.targets.teams: %w", err)
	}
	out := make(map[string]map[string]float64, len(names))
	for i, n := range names {
		out[known[i]] = targets[n]
	}
	return out, nil
}

// checkTeam returns --team in the warehouse's spelling, or an error with
// the closest known teams: a typo must not write a report of nothing.
func checkTeam(ctx context.Context, data reports.Data, team string) (string, error) {
	if team == "" {
		return "", nil
	}
	t, err := data.Query(ctx, "report-service-teams", nil)
	if err != nil {
		return "", err
	}
	known, err := catalog.FromTable(t).CheckTeams([]string{team})
	if err != nil {
		return "", err
	}
	return known[0], nil
}
