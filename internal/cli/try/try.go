// Package try implements `shiplog try --repo PATH`: the first five minutes
// on one's own repository, with no configuration. It reads the history and
// the release tags (guessing the tag pattern and saying which it chose),
// treats each release tag as a production deployment of the repository,
// transforms into a warehouse in a folder of its own, prints the metrics
// git alone can give and those it cannot with why, writes the reports, and
// prints the shiplog.yaml lines for the sources that would fill the gaps.
package try

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/shiplog/shiplog/ingest"
	gitsrc "github.com/shiplog/shiplog/ingest/git"
	"github.com/shiplog/shiplog/internal/cli/report"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/reports"
	"github.com/shiplog/shiplog/transform"
)

// DefaultDir is where try puts its warehouse, configuration and reports.
const DefaultDir = "shiplog-try"

// Options are the inputs of a try run.
type Options struct {
	IO  *iostreams.IOStreams
	Now func() time.Time

	Repo string
	// Dir receives the warehouse, the configuration and the reports; the
	// warehouse is rebuilt on each run.
	Dir string
	// TagPattern overrides the guessed release-tag pattern.
	TagPattern string
	// Name and Service override the repository's name and its service.
	Name, Service string
	// By splits the printed metrics: quarter (default), month or week.
	By string
	// NoReports skips the reports (tests of the rest).
	NoReports bool
	// Git is the git executable ("git" on PATH when empty).
	Git string
}

// NewCmdTry returns the command. runF replaces the run function in tests of
// flag parsing.
func NewCmdTry(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now, Dir: DefaultDir, By: "quarter"}
	cmd := &cobra.Command{
		Use:   "try --repo PATH",
		Short: "Measure a repository from its git history, with no configuration",
		Long: `Measure a local clone from its history alone, with no configuration.

try reads every commit and the release tags, guessing the tag pattern from
the tags it finds (v1.2.3, 1.2.3, release-…; --tag-pattern chooses) and
saying which it chose and how many tags matched. Each release tag is taken
as a production deployment of the repository, at the tag's date (an
annotated tag's tagger date, else its commit's date), and each commit a
release first ships is a change whose lead time runs from its author time
to that release.

Everything goes to a folder of its own (--dir, default ./shiplog-try): the
warehouse, a shiplog.yaml that reads the same repository, and the reports.
The warehouse is rebuilt on each run. try prints the metrics per quarter,
says which metrics git cannot give and why (no incident source: change
failure rate, recovery time and MTTR are unknown, not zero), and prints the
shiplog.yaml lines for GitHub or GitLab, Jira and PagerDuty that would fill
the gaps. Progress goes to stderr.`,
		Example: `  shiplog try --repo .
  shiplog try --repo ../api --dir /tmp/api-try
  shiplog try --repo ../api --tag-pattern '^api-v[0-9.]+$' --by month`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Repo == "" {
				return cmdutil.FlagErrorf("--repo is required: the path of a local git clone")
			}
			if opts.Dir == "" {
				return cmdutil.FlagErrorf("--dir must not be empty")
			}
			switch opts.By {
			case "week", "month", "quarter":
			default:
				return cmdutil.FlagErrorf("--by must be week, month or quarter, not %q", opts.By)
			}
			if opts.TagPattern != "" {
				c := gitsrc.NewConfig(opts.Repo)
				c.TagPattern = opts.TagPattern
				if err := c.Validate(); err != nil {
					return &cmdutil.FlagError{Err: fmt.Errorf("--tag-pattern: %w", err)}
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			_, err := Run(cmd.Context(), opts)
			return err
		},
	}
	cmd.Flags().StringVar(&opts.Repo, "repo", "", "path of a local git clone (a working tree or a bare repository)")
	cmd.Flags().StringVar(&opts.Dir, "dir", opts.Dir, "folder for the warehouse, configuration and reports")
	cmd.Flags().StringVar(&opts.TagPattern, "tag-pattern", "", "regular expression selecting release tags (default: guessed from the tags)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "repository name, owner/name (default: from the origin remote, else the folder)")
	cmd.Flags().StringVar(&opts.Service, "service", "", "service the releases belong to (default: the repository name)")
	cmd.Flags().StringVar(&opts.By, "by", opts.By, "split the printed metrics: week, month or quarter")
	return cmd
}

// Result says what a run found and where it put it.
type Result struct {
	Dir, Warehouse, Config, Index string
	Name, Service                 string
	Guess                         gitsrc.Guess
	Commits, Releases             int64
	// Metrics is the whole history's row for the service (Compute's
	// columns) and ByPeriod the printed table.
	Metrics, ByPeriod *output.Table
}

// Run does the whole try.
func Run(ctx context.Context, opts *Options) (*Result, error) {
	errOut := opts.IO.ErrOut
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	res := &Result{Dir: opts.Dir}

	// The repository and its release tags, before anything is written.
	gc := gitsrc.NewConfig(opts.Repo)
	gc.Name, gc.Service = opts.Name, opts.Service
	probe, err := gitsrc.New(gc)
	if err != nil {
		return nil, err
	}
	probe.Git = opts.Git
	tags, err := probe.TagNames(ctx)
	if err != nil {
		return nil, err
	}
	if opts.TagPattern != "" {
		res.Guess = gitsrc.Guess{Pattern: opts.TagPattern, Example: "--tag-pattern", Tags: len(tags)}
		res.Guess.Matched = countMatches(opts.TagPattern, tags)
		fmt.Fprintf(errOut, "try: tag pattern %s (--tag-pattern): %d of %d tags match\n", opts.TagPattern, res.Guess.Matched, len(tags))
	} else {
		res.Guess = gitsrc.GuessTagPattern(tags)
		if res.Guess.Matched == 0 {
			return nil, noReleaseTags(opts.Repo, tags)
		}
		fmt.Fprintf(errOut, "try: tag pattern %s (like %s), guessed from the tags:\n     %d of %d tags match (--tag-pattern chooses another)\n",
			res.Guess.Pattern, res.Guess.Example, res.Guess.Matched, len(tags))
	}
	gc.TagPattern = res.Guess.Pattern

	// A fresh warehouse in the folder.
	res.Warehouse = filepath.Join(opts.Dir, "shiplog.duckdb")
	res.Config = filepath.Join(opts.Dir, "shiplog.yaml")
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []string{res.Warehouse, res.Warehouse + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("try: remove the previous warehouse: %w", err)
		}
	}
	db, err := warehouse.Open(ctx, res.Warehouse, warehouse.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()

	src, err := gitsrc.New(gc)
	if err != nil {
		return nil, err
	}
	src.Git = opts.Git
	fmt.Fprintf(errOut, "try: reading %s into %s\n", opts.Repo, res.Warehouse)
	var st *gitsrc.Stats
	if _, err := ingest.Run(ctx, statsSource{src, &st}, &ingest.Env{DB: db, Progress: errOut, Now: now}); err != nil {
		return nil, err
	}
	res.Name, res.Service = src.Config().Name, src.Config().Service
	res.Commits, res.Releases = st.CommitsRead, st.TagsMatched
	fmt.Fprintf(errOut, "try: each of the %d releases is taken as a production deployment of\n     service %s, at its tag's date\n",
		res.Releases, res.Service)

	cfg := config.Default()
	cfg.Sources.Git = []config.Git{{Repo: absPath(opts.Repo), Name: res.Name, Service: res.Service, TagPattern: gc.TagPattern}}
	// Release tags are not one environment's deployments in order: a
	// maintenance release (v1.1.1 after v1.2.0) would read as a version
	// rollback, a failure. Tags only say what was released.
	cfg.Metrics.FailureFromVersionRollbacks = false
	if err := writeConfig(res.Config, cfg); err != nil {
		return nil, err
	}
	fmt.Fprintln(errOut, "try: transforming")
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		return nil, err
	}

	whole, err := metrics.Compute(ctx, db, cfg, metrics.Filter{Services: []string{res.Service}})
	if err != nil {
		return nil, err
	}
	res.Metrics = whole
	byPeriod, err := metrics.Compute(ctx, db, cfg, metrics.Filter{Services: []string{res.Service}, By: opts.By})
	if err != nil {
		return nil, err
	}
	metrics.Describe(byPeriod)
	res.ByPeriod = byPeriod

	out := opts.IO.Out
	fmt.Fprintf(out, "%s from git alone: %d commits, %d releases (tags %s), per %s:\n\n",
		res.Service, res.Commits, res.Releases, gc.TagPattern, opts.By)
	width := iostreams.DefaultWidth
	if opts.IO.IsStdoutTTY() {
		width = opts.IO.TerminalWidth()
	}
	if err := output.Print(out, byPeriod, output.Options{TTY: true, Width: width, Hints: io.Discard}); err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	writeVerdicts(out, whole)

	if !opts.NoReports {
		dir := filepath.Join(opts.Dir, "reports")
		fmt.Fprintf(errOut, "try: writing reports to %s\n", dir)
		data := report.WarehouseData(db, cfg, now)
		index, err := reports.WriteAll(ctx, data, reports.Options{Out: dir, Now: now(), Progress: errOut, ProgressWidth: opts.IO.MessageWidth()})
		if err != nil {
			return nil, err
		}
		res.Index = index
	}

	fmt.Fprintf(out, "\nTo fill the gaps, add the sources you have to the configuration, which\n")
	fmt.Fprintf(out, "reads this repository already:\n  %s\n", res.Config)
	fmt.Fprintf(out, "set their tokens in the environment, then run:\n")
	fmt.Fprintf(out, "  shiplog --config %s ingest --all\n  shiplog --config %s transform\n\n", res.Config, res.Config)
	fmt.Fprint(out, NextSources(probe.Remote(ctx), res.Name, res.Service))

	fmt.Fprintf(errOut, "\nDone. Everything is in %s:\n", opts.Dir)
	fmt.Fprintf(errOut, "  warehouse      %s\n", res.Warehouse)
	fmt.Fprintf(errOut, "  configuration  %s\n", res.Config)
	if res.Index != "" {
		fmt.Fprintf(errOut, "  reports        %s (open it in a browser)\n", res.Index)
	}
	fmt.Fprintf(errOut, "Try next: shiplog --db %s explain lead-time --service %s\n", res.Warehouse, res.Service)
	return res, nil
}

// statsSource runs a git source through ingest.Run (which records the run)
// and keeps its statistics.
type statsSource struct {
	*gitsrc.Source
	st **gitsrc.Stats
}

func (s statsSource) Sync(ctx context.Context, env *ingest.Env) error {
	st, err := s.Source.SyncStats(ctx, env)
	*s.st = st
	return err
}

// writeVerdicts says, metric by metric, what the whole history gives and
// what it cannot, with the reason the metric SQL gave.
func writeVerdicts(w io.Writer, whole *output.Table) {
	metrics.Describe(whole)
	if len(whole.Rows) == 0 {
		fmt.Fprintln(w, "No release falls in the history: no metric can be computed.")
		return
	}
	r := whole.Rows[0]
	get := func(col string) any { return r[whole.Index(col)] }
	human := func(col string) string { return format.Human(whole.Kind(col), get(col)) }
	fmt.Fprintln(w, "What git gives, over the whole history:")
	verdict(w, "deployment frequency", fmt.Sprintf("%s releases, median %s between them (%s)",
		human("deployments"), human("deploy_interval_median_hours"), tierText(get("deployment_frequency_tier"))))
	if reason := get("lead_time_unknown_reason"); reason != nil {
		verdict(w, "change lead time", fmt.Sprintf("unknown: %s", reason))
	} else {
		verdict(w, "change lead time", fmt.Sprintf("median %s over %s commits, from author time to the first release that ships them; %s left out (history before the first release, or not after its commit) (%s)",
			human("lead_time_median_hours"), human("lead_time_changes"), human("lead_time_excluded"), tierText(get("lead_time_tier"))))
	}
	verdict(w, "rework rate", fmt.Sprintf("%s (releases whose tag matches metrics.hotfix_patterns)", human("rework_rate")))
	if reason := get("failure_unknown_reason"); reason != nil {
		if n, _ := get("failed_deployments").(int64); n > 0 {
			// what git alone shows (try's configuration turns version
			// rollbacks off; reverts remain): a floor, never the rate
			verdict(w, "failed releases", fmt.Sprintf("at least %d of %s, found from git alone (a later release reverted a commit it shipped); `shiplog explain change-failure-rate` lists them",
				n, human("deployments")))
		}
		fmt.Fprintf(w, "What git cannot give:\n")
		verdict(w, "change failure rate", fmt.Sprintf("unknown: %s (a release's failure is known from incidents; reverts alone give only a floor)", reason))
		verdict(w, "recovery time", fmt.Sprintf("unknown: %s", reason))
		verdict(w, "MTTR", fmt.Sprintf("unknown: %s", reason))
	} else {
		verdict(w, "change failure rate", human("change_failure_rate"))
	}
	verdict(w, "review and pickup", "stages need pull requests (GitHub or GitLab); until then lead time is per commit")
}

// verdict prints one metric's line: its label in a column of 21 after two
// spaces, the text after it wrapped at 80 columns and indented under
// itself, so that the summary reads in an 80-column terminal.
func verdict(w io.Writer, label, text string) {
	const indent, width = 2 + 21 + 1, 80
	line := fmt.Sprintf("  %-21s", label)
	col := len(line)
	for i, word := range strings.Fields(text) {
		switch {
		case i == 0:
			line += " " + word
			col += 1 + len([]rune(word))
		case col+1+len([]rune(word)) > width:
			fmt.Fprintln(w, line)
			line = strings.Repeat(" ", indent) + word
			col = indent + len([]rune(word))
		default:
			line += " " + word
			col += 1 + len([]rune(word))
		}
	}
	fmt.Fprintln(w, line)
}

func tierText(v any) string {
	if v == nil {
		return "no tier"
	}
	return fmt.Sprint(v)
}

// NextSources are the shiplog.yaml lines that would fill what git cannot
// give: the pull or merge requests of the repository's host (GitHub or
// GitLab by its origin remote; both when the host says neither), and
// incidents from PagerDuty or Jira for the service. The lines parse as a
// configuration (a test checks it), with the tokens in the environment.
func NextSources(remote, name, service string) string {
	host := strings.ToLower(remote)
	github := strings.Contains(host, "github")
	gitlab := strings.Contains(host, "gitlab")
	if !github && !gitlab {
		github, gitlab = true, true
	}
	var b strings.Builder
	b.WriteString("sources:\n")
	if github {
		fmt.Fprintf(&b, "  # pull requests with reviews (lead time stages), GitHub deployments;\n  # token in GITHUB_TOKEN\n")
		fmt.Fprintf(&b, "  github:\n    repos: [%s]\n    services: {%s: [%s]}\n", name, name, service)
	}
	if gitlab {
		fmt.Fprintf(&b, "  # merge requests with approvals, deployments, incident issues;\n  # token in GITLAB_TOKEN\n")
		fmt.Fprintf(&b, "  gitlab:\n    url: https://gitlab.com\n    projects: [%s]\n    services: {%s: %s}\n", name, name, service)
	}
	fmt.Fprintf(&b, "  # incidents: change failure rate, recovery time, MTTR; token in PAGERDUTY_TOKEN\n")
	fmt.Fprintf(&b, "  pagerduty:\n    services: {YOUR-PAGERDUTY-SERVICE: %s}\n", service)
	fmt.Fprintf(&b, "  # or incidents from Jira; token in JIRA_TOKEN\n")
	fmt.Fprintf(&b, "  jira:\n    url: https://YOUR-SITE.atlassian.net\n    incidents:\n      jql: 'project = OPS AND issuetype = Incident'\n      service_field: components\n")
	return b.String()
}

// noReleaseTags is the error when no tag of repo looks like a release:
// what try needs, and what to do, in lines that fit an 80-column terminal.
// A clone without tags (a CI checkout fetches none) is told to fetch
// them; tags of other shapes are shown, a few of them, beside the shapes
// tried, so that --tag-pattern can be written from them.
func noReleaseTags(repo string, tags []string) error {
	if len(tags) == 0 {
		return fmt.Errorf("try: %s has no tags.\n"+
			"try takes each release tag as a production deployment: fetch the tags\n"+
			"if this clone lacks them (git fetch --tags), or tag your releases", repo)
	}
	const shown = 5
	some := tags
	if len(some) > shown {
		some = some[:shown]
	}
	list := strings.Join(some, ", ")
	if len(tags) > shown {
		list += fmt.Sprintf(" and %d more", len(tags)-shown)
	}
	return fmt.Errorf("try: %s: none of its %d tag(s) looks like a release.\n"+
		"Its tags: %s.\n%s\nGive the pattern of your release tags with --tag-pattern", repo, len(tags), list, examples())
}

// examples lists the release-tag shapes GuessTagPattern tries, wrapped
// at 72 columns.
func examples() string {
	var ex []string
	for _, p := range gitsrc.TagPatterns {
		ex = append(ex, p.Example)
	}
	return format.WrapList("Shapes tried:", ex, 72) + "."
}

func countMatches(pattern string, tags []string) int {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return 0
	}
	n := 0
	for _, t := range tags {
		if re.MatchString(t) {
			n++
		}
	}
	return n
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func writeConfig(path string, cfg *config.Config) error {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	head := "# shiplog configuration written by `shiplog try`: the defaults and the repository it read.\n" +
		"# Use it with: shiplog --config " + path + " ...\n"
	return os.WriteFile(path, append([]byte(head), data...), 0o644)
}
