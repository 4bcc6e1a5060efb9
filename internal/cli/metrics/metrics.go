// Package metrics implements `shiplog metrics`: the DORA metrics and MTTR
// (and, with --view, velocity, adoption and support impact) from the marts.
package metrics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/access"
	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
)

// Options are the inputs of a metrics run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Config    func() (*config.Config, error)
	// Now is the clock of the coverage (is the warehouse stale?).
	Now func() time.Time

	Filter metrics.Filter
	// Departments restrict the services to those of these departments'
	// teams.
	Departments []string
	View        string
	Table       cmdutil.TableFlags
}

// FilterFlags adds the shared filter flags (--service, --team, --from, --to)
// to cmd and returns a function that parses them into f.
func FilterFlags(cmd *cobra.Command, f *metrics.Filter) func() error {
	var from, to string
	cmd.Flags().StringArrayVar(&f.Services, "service", nil, "only this service (repeatable)")
	cmd.Flags().StringArrayVar(&f.Teams, "team", nil, "only the services of this team (repeatable)")
	cmd.Flags().StringVar(&from, "from", "", "window start, YYYY-MM-DD (UTC midnight) or RFC 3339, inclusive")
	cmd.Flags().StringVar(&to, "to", "", "window end, YYYY-MM-DD (UTC midnight) or RFC 3339, exclusive")
	return func() error {
		var err error
		if f.From, err = ParseTime(from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		if f.To, err = ParseTime(to); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		return nil
	}
}

// DepartmentFlag adds --department to cmd.
func DepartmentFlag(cmd *cobra.Command, departments *[]string) {
	cmd.Flags().StringArrayVar(departments, "department", nil, "only the services of this department's teams (repeatable)")
}

// ParseTime reads YYYY-MM-DD (midnight UTC) or RFC 3339; "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// ResolveNames checks the filter's services, teams and departments against
// the warehouse's catalog — a typo is an error listing the closest known
// names — and puts them in the warehouse's spelling. Departments become
// their teams (intersected with any --team).
func ResolveNames(ctx context.Context, q output.QueryFunc, f *metrics.Filter, departments []string) error {
	return ResolveNamesWithin(ctx, q, f, departments, nil)
}

// Limit is a read limited to some teams' services (a read:teams= token of
// the HTTP read API): Token names the token in refusals.
type Limit struct {
	Token string
	Teams []string
}

// ResolveNamesWithin is ResolveNames for a caller limited to some teams
// (nil: none): a service, team or department outside them is refused with
// an *access.Denied naming the scope it would need, and a filter naming
// no team is narrowed to the allowed ones, so every answer (the
// organisation-wide row too) covers only their services.
func ResolveNamesWithin(ctx context.Context, q output.QueryFunc, f *metrics.Filter, departments []string, limit *Limit) error {
	if err := resolveNames(ctx, q, f, departments); err != nil {
		return err
	}
	if limit == nil {
		return nil
	}
	if err := access.Within(limit.Token, limit.Teams, f.Teams); err != nil {
		return err
	}
	if len(f.Services) > 0 {
		cat, err := catalog.Load(ctx, q)
		if err != nil {
			return err
		}
		teamOf := map[string]string{}
		for _, s := range cat.Services {
			teamOf[s.Service] = s.Team
		}
		for _, svc := range f.Services {
			if err := access.Within(limit.Token, limit.Teams, []string{teamOf[svc]}); err != nil {
				return err
			}
		}
	}
	if len(f.Teams) == 0 {
		f.Teams = append([]string{}, limit.Teams...)
	}
	return nil
}

// checkNames checks services, teams and departments against cat and
// returns them as the catalog names them.
func checkNames(cat *catalog.Catalog, services, teams, departments []string) ([]string, []string, []string, error) {
	var err error
	if services, err = cat.CheckServices(services); err != nil {
		return nil, nil, nil, err
	}
	if teams, err = cat.CheckTeams(teams); err != nil {
		return nil, nil, nil, err
	}
	if len(departments) > 0 {
		if departments, err = cat.CheckDepartments(departments); err != nil {
			return nil, nil, nil, err
		}
	}
	return services, teams, departments, nil
}

func resolveNames(ctx context.Context, q output.QueryFunc, f *metrics.Filter, departments []string) error {
	if len(f.Services) == 0 && len(f.Teams) == 0 && len(departments) == 0 {
		return nil
	}
	// The dimension alone resolves nearly every name; a name it does not
	// know is looked for in the whole catalog, which decides (and names
	// the closest ones when it too does not know it).
	cat, err := catalog.LoadDimensions(ctx, q)
	if err != nil {
		return err
	}
	services, named, depts, err := checkNames(cat, f.Services, f.Teams, departments)
	if err != nil {
		if cat, err = catalog.Load(ctx, q); err != nil {
			return err
		}
		if services, named, depts, err = checkNames(cat, f.Services, f.Teams, departments); err != nil {
			return err
		}
	}
	f.Services, f.Teams, departments = services, named, depts
	if len(departments) == 0 {
		return nil
	}
	teams := cat.TeamsOf(departments)
	if len(f.Teams) > 0 {
		in := map[string]bool{}
		for _, t := range teams {
			in[t] = true
		}
		var both []string
		for _, t := range f.Teams {
			if in[t] {
				both = append(both, t)
			}
		}
		if len(both) == 0 {
			return cmdutil.FlagErrorf("no team of %s is in department %s", strings.Join(f.Teams, ", "), strings.Join(departments, ", "))
		}
		teams = both
	}
	if len(teams) == 0 {
		return fmt.Errorf("department %s has no team with a service", strings.Join(departments, ", "))
	}
	f.Teams = teams
	return nil
}

// DefaultLevel is the row level when --level is not given: the narrowest
// thing named — services, else departments, else teams — so that
// `--team payments` shows the team's row.
func DefaultLevel(f metrics.Filter, departments []string) string {
	switch {
	case len(f.Services) > 0:
		return "service"
	case len(departments) > 0:
		return "department"
	case len(f.Teams) > 0:
		return "team"
	}
	return "service"
}

// NewCmdMetrics returns the metrics command. runF replaces the run function
// in tests of flag parsing.
func NewCmdMetrics(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly, Config: f.Config, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Show the DORA metrics, MTTR and their tiers",
		Long: `Show deployment frequency, lead time, change failure rate, recovery time,
rework rate and MTTR per service (or team, department, organisation, or
production environment), for a window and per week, month or quarter, with
tiers from the configured benchmark set. Run 'shiplog transform' after
loading data.

--from is inclusive and --to exclusive; a bare date means midnight UTC.
Without them, the window is all the data. Rows are per service, or per team
with --team and per department with --department, unless --level says
otherwise. A name the warehouse does not know is an error with the closest
known names.

--environment counts only the deployments (and the changes and failures
they carry) of those production environments; --level environment gives a
row per production environment. Incidents carry no environment, so MTTR and
incidents are empty then.

On a terminal, the table shows the headline columns in human units (a tier
beside each value) and fits the width; --wide shows every column and
--columns picks them. Piped, or with --format tsv, csv or json, every column
is printed with its stable name and raw value. Values that are undefined (no
deployments in a period: no rate) are "–" on a terminal, empty in TSV and CSV
and null in JSON. The period shown and the data's coverage are said on
stderr, and in JSON under "period" and "coverage".

` + format.WrapList("--view selects another output:", metrics.ViewNames(), 80) + `.`,
		Example: `  shiplog metrics --team payments --from 2026-01-01 --to 2026-04-01 --by month
  shiplog metrics --level org --format json
  shiplog metrics --wide
  shiplog metrics --columns team,deployments,change_failure_rate --level team
  shiplog metrics --view velocity --level team --by week
  shiplog metrics --level environment --by month
  shiplog metrics --team payments --environment prod-eu --environment prod-us`,
		Args: cobra.NoArgs,
	}
	parse := FilterFlags(cmd, &opts.Filter)
	DepartmentFlag(cmd, &opts.Departments)
	cmd.Flags().StringVar(&opts.Filter.By, "by", "", "split into periods: week, month or quarter")
	cmd.Flags().StringVar(&opts.Filter.Level, "level", "", "row level: service, team, department, org or environment (default: service with --service, else department with --department, else team with --team, else service)")
	cmd.Flags().StringArrayVar(&opts.Filter.Environments, "environment", nil, "only the deployments of this production environment (repeatable)")
	cmd.Flags().StringVar(&opts.View, "view", "dora", "output: dora, "+strings.Join(metrics.ViewNames(), ", "))
	opts.Table.Register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := parse(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if err := opts.Table.Check(); err != nil {
			return err
		}
		if !cmd.Flags().Changed("level") {
			opts.Filter.Level = DefaultLevel(opts.Filter, opts.Departments)
		}
		if err := opts.Filter.Check(); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if _, ok := metrics.Views[opts.View]; !ok && opts.View != "dora" {
			return cmdutil.FlagErrorf("--view must be dora or one of %s, not %q", strings.Join(metrics.ViewNames(), ", "), opts.View)
		}
		if opts.View != "dora" && (opts.Filter.Level == "environment" || len(opts.Filter.Environments) > 0) {
			return cmdutil.FlagErrorf("--level environment and --environment apply to the DORA metrics, not --view %s", opts.View)
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return Run(cmd.Context(), opts)
	}
	return cmd
}

// Run computes and prints the metrics.
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
	a, err := Compute(ctx, db, cfg, opts.Now, Request{Filter: opts.Filter, Departments: opts.Departments, View: opts.View})
	if err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		a.Coverage.Note(opts.IO.ErrOut, opts.IO.MessageWidth(), a.Period, Chosen(a.Filter), metricKinds...)
	}
	return opts.Table.Print(opts.IO, a.Table, a.Extra)
}

// Request is what a metrics answer depends on: the command's flags, or the
// HTTP read API's query string (the same names).
type Request struct {
	Filter      metrics.Filter
	Departments []string
	View        string
	// Limit, when set, restricts the answer to some teams' services.
	Limit *Limit
}

// Answer is a computed metrics table with the JSON document's other
// members (Extra), as `--format json` prints them and GET /api/v1/metrics
// answers them.
type Answer struct {
	Table    *output.Table
	Extra    map[string]any
	Filter   metrics.Filter // with names resolved
	Coverage *coverage.Coverage
	Period   coverage.Period
}

// Compute is the one code path of `shiplog metrics` and of the read API's
// metrics: names resolved (and limited), the metrics or a view computed,
// the period shown and the coverage.
func Compute(ctx context.Context, db *warehouse.DB, cfg *config.Config, now func() time.Time, req Request) (*Answer, error) {
	q := output.DB(db)
	f := req.Filter
	if err := ResolveNamesWithin(ctx, q, &f, req.Departments, req.Limit); err != nil {
		return nil, err
	}
	var err error
	if f.Environments, err = catalog.CheckEnvironments(ctx, q, f.Environments); err != nil {
		return nil, err
	}
	var t *output.Table
	if req.View == "dora" || req.View == "" {
		t, err = metrics.Compute(ctx, db, cfg, f)
	} else {
		t, err = metrics.View(ctx, db, req.View, f)
	}
	if err != nil {
		return nil, err
	}
	metrics.Describe(t)
	DescribePeriods(t, f.By)

	cov, err := LoadCoverage(ctx, q, cfg, now)
	if err != nil {
		return nil, err
	}
	period := ShownPeriod(t, f, cov)
	if req.View == "dora" || req.View == "" {
		AddPeriodCoverage(t, cov)
	}
	extra := Meta(cfg, f, req.View)
	extra["period"] = period.Document()
	extra["coverage"] = cov.Document(metricKinds...)
	return &Answer{Table: t, Extra: extra, Filter: f, Coverage: cov, Period: period}, nil
}

// metricKinds are the kinds whose coverage the metrics summary states.
var metricKinds = []string{"deployment"}

// LoadCoverage reads, with the configured stale age, the coverage of the
// data the marts were built from (coverage.LoadBuilt: the last transform's
// snapshot, which keeps a metrics call from grouping every canonical row).
func LoadCoverage(ctx context.Context, q output.QueryFunc, cfg *config.Config, now func() time.Time) (*coverage.Coverage, error) {
	if now == nil {
		now = time.Now
	}
	return coverage.LoadBuilt(ctx, q, now(), cfg.Reports.StaleAfter.D())
}

// Chosen says how the period was chosen when --from or --to was left out.
func Chosen(f metrics.Filter) string {
	switch {
	case f.From.IsZero() && f.To.IsZero():
		return "all data; --from and --to choose"
	case f.From.IsZero():
		return "from the first data"
	case f.To.IsZero():
		return "to the last data"
	}
	return ""
}

// ShownPeriod is the window a metrics (or explain) table covers: --from and
// --to, with an open end taken from the rows' periods (the metrics engine
// bounds it by the deployments in scope) or, without rows, from the data.
func ShownPeriod(t *output.Table, f metrics.Filter, cov *coverage.Coverage) coverage.Period {
	from, to := f.From, f.To
	si, ei := t.Index("period_start"), t.Index("period_end")
	if si >= 0 && ei >= 0 {
		for _, r := range t.Rows {
			if s, ok := r[si].(time.Time); ok && f.From.IsZero() && (from.IsZero() || s.Before(from)) {
				from = s
			}
			if e, ok := r[ei].(time.Time); ok && f.To.IsZero() && e.After(to) {
				to = e
			}
		}
	}
	return cov.Period(from, to, metricKinds...)
}

// DescribePeriods makes period starts read as months or quarters on a
// terminal when the table is split by one and every start is aligned to it
// (a window that starts mid-month keeps its first day).
func DescribePeriods(t *output.Table, by string) {
	i := t.Index("period_start")
	if i < 0 || (by != "month" && by != "quarter") {
		return
	}
	for _, r := range t.Rows {
		s, ok := r[i].(time.Time)
		if ok && !coverage.Start(by, s).Equal(s.UTC()) {
			return
		}
	}
	kind := format.Month
	if by == "quarter" {
		kind = format.Quarter
	}
	if t.Kinds == nil {
		t.Kinds = map[string]format.Kind{}
	}
	t.Kinds["period_start"] = kind
}

// AddPeriodCoverage appends the column period_coverage — complete, partial
// or empty — saying how much of each row's period the deployments cover.
// On a terminal it shows beside the period only when not complete.
func AddPeriodCoverage(t *output.Table, cov *coverage.Coverage) {
	si, ei := t.Index("period_start"), t.Index("period_end")
	if si < 0 || ei < 0 {
		return
	}
	t.Columns = append(t.Columns, "period_coverage")
	for i, r := range t.Rows {
		var state any
		s, ok1 := r[si].(time.Time)
		e, ok2 := r[ei].(time.Time)
		if ok1 && ok2 {
			state = string(cov.Period(s, e, metricKinds...).State)
		}
		t.Rows[i] = append(r, state)
	}
	if t.Kinds == nil {
		t.Kinds = map[string]format.Kind{}
	}
	t.Kinds["period_coverage"] = format.Text
	if t.Beside == nil {
		t.Beside = map[string]string{}
	}
	t.Beside["period_start"] = "period_coverage"
	if t.BesideText == nil {
		t.BesideText = map[string]func(any) string{}
	}
	t.BesideText["period_coverage"] = func(v any) string {
		if v == nil || v == string(coverage.Complete) {
			return ""
		}
		return fmt.Sprint(v)
	}
}

// Meta is the top-level members of the JSON document beside rows.
func Meta(cfg *config.Config, f metrics.Filter, view string) map[string]any {
	m := map[string]any{
		"view":       view,
		"from":       timeOrNil(f.From),
		"to":         timeOrNil(f.To),
		"by":         f.By,
		"level":      f.Level,
		"benchmarks": cfg.Metrics.Benchmarks,
		"services":   f.Services,
		"teams":      f.Teams,
	}
	if len(f.Environments) > 0 {
		m["environments"] = f.Environments
	}
	return m
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// QueryParams are the read API's names for the command's flags (each flag
// without its dashes); service, team and department repeat.
var QueryParams = []string{"service", "team", "department", "from", "to", "by", "level", "view"}

// ParamError is a bad query-string parameter of the read API.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string { return "parameter " + e.Param + ": " + e.Err.Error() }
func (e *ParamError) Unwrap() error { return e.Err }

// RequestFrom reads a Request from the read API's query string with the
// rules of the command's flags: dates as --from and --to, level defaulting
// to what the filter names, by, level and view checked.
func RequestFrom(v map[string][]string, views bool) (Request, error) {
	var req Request
	get := func(k string) string {
		if len(v[k]) == 0 {
			return ""
		}
		return v[k][len(v[k])-1]
	}
	req.Filter.Services, req.Filter.Teams, req.Departments = v["service"], v["team"], v["department"]
	var err error
	if req.Filter.From, err = ParseTime(get("from")); err != nil {
		return req, &ParamError{"from", err}
	}
	if req.Filter.To, err = ParseTime(get("to")); err != nil {
		return req, &ParamError{"to", err}
	}
	req.Filter.By = get("by")
	req.Filter.Level = get("level")
	if req.Filter.Level == "" {
		req.Filter.Level = DefaultLevel(req.Filter, req.Departments)
	}
	if err := req.Filter.Check(); err != nil {
		p := "level"
		switch {
		case strings.Contains(err.Error(), "--by"):
			p = "by"
		case strings.Contains(err.Error(), "before"):
			p = "from"
		}
		return req, &ParamError{p, err}
	}
	req.View = "dora"
	if views {
		if vw := get("view"); vw != "" {
			if _, ok := metrics.Views[vw]; !ok && vw != "dora" {
				return req, &ParamError{"view", fmt.Errorf("must be dora or one of %s, not %q", strings.Join(metrics.ViewNames(), ", "), vw)}
			}
			req.View = vw
		}
	}
	return req, nil
}
