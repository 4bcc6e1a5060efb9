// Package reports writes static HTML reports — leadership, retrospective,
// audit and any dashboard spec — that open from disk with no network: the
// ECharts script is embedded and written beside the pages, every chart has a
// table under it, and everything that came from a source is escaped.
//
// The data layer is behind the Data interface so that rendering is tested
// with tables in memory; the command wires it to the named queries, the
// metrics engine and the governance controls.
package reports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// Data is what a report needs from the warehouse.
type Data interface {
	// Query runs a named query of queries/ with string parameters; unknown
	// or ill-typed parameters are errors.
	Query(ctx context.Context, name string, params map[string]string) (*output.Table, error)
	// Metrics returns the metric table of the metrics engine (columns as in
	// the metrics contract: level key, period_start, period_end, deployments …).
	Metrics(ctx context.Context, f MetricsFilter) (*output.Table, error)
	// Audit runs every governance control over [from, to).
	Audit(ctx context.Context, from, to time.Time) ([]ControlResult, error)
}

// BatchData is a Data that can answer several metrics filters at once,
// more cheaply than one by one. MetricsMany returns one table per filter, in
// order, each the table Metrics returns for that filter. The leadership
// report asks it for all its filters before it renders.
type BatchData interface {
	Data
	MetricsMany(ctx context.Context, fs []MetricsFilter) ([]*output.Table, error)
}

// MetricsFilter selects what Data.Metrics computes. Its fields have the
// names, types and order of metrics.Filter, so one converts to the other
// with a plain type conversion.
type MetricsFilter struct {
	Services, Teams []string
	// From and To bound the window; zero is unbounded, To is exclusive.
	From, To time.Time
	// By is "", week, month or quarter.
	By string
	// Level is service (default), team, department or org.
	Level string
}

// ControlResult is one governance control over a period.
type ControlResult struct {
	// Control is the control's name (unapproved-production-change …).
	Control string
	// Description says what the control checks.
	Description string
	// Version is a short hash of the control's SQL and parameters
	// (audit.ControlVersion); the cover page lists it.
	Version string
	// Checked is how many items the control examined; Failed how many
	// findings are not exempt.
	Checked, Failed int64
	// Population names what the items are (production deployments,
	// change requests, changes …): totals are given per population.
	Population string
	// Outcomes counts the items per outcome class as the control decided
	// it (audit.PassClasses: evidence, pre_approved, override,
	// not_required, not_due; then exempt and failed). Nil when unknown:
	// the page then shows checked − failed as passed.
	Outcomes map[string]int64
	// Findings holds one row per finding with its evidence columns.
	Findings *output.Table
}

// Options say what to write where.
type Options struct {
	// Out is the folder the pages are written to (created if missing).
	Out string
	// Team restricts the reports to one team ("" = the whole organisation;
	// the leadership report then has one page per team as well).
	Team string
	// From and To bound the period (To exclusive). Without either, the
	// period is the last complete month that has deployment data (see
	// internal/coverage), or the last full calendar month before Now when
	// the data layer cannot say what it holds.
	From, To time.Time
	// Now is the generation time printed on every page.
	Now time.Time
	// Dashboards are folders of the user's dashboard specs, searched before
	// the built-in ones.
	Dashboards []fs.FS
	// Progress receives one line per page written (nil = silent).
	Progress io.Writer
	// ProgressWidth is the terminal width the period line is wrapped at
	// (0: not wrapped).
	ProgressWidth int

	// Leadership holds what the leadership pages add to the metrics:
	// no-change bands, targets, commentary, incidents and the score.
	Leadership LeadershipOptions
	// Freezes are drawn on the retrospective's timeline.
	Freezes []Freeze
}

// Freeze is a period in which production releases are not allowed.
type Freeze struct {
	Name       string
	Start, End time.Time
}

// Report kinds accepted by Write.
const (
	Leadership = "leadership"
	Retro      = "retro"
	Audit      = "audit"
)

// Kinds lists the report kinds in the order "all" writes them.
var Kinds = []string{Leadership, Retro, Audit}

// Result lists what a Write call produced.
type Result struct {
	// Index is the path of index.html.
	Index string
	// Files are every file written (pages, assets and index), relative to
	// Out, with forward slashes.
	Files []string
	// From and To are the period the pages cover, resolved from
	// Options.From and Options.To (To exclusive).
	From, To time.Time
	// Period is that period with how much of it the data covers (State
	// complete when the data layer cannot say).
	Period coverage.Period
}

// WriteAll writes the leadership, retrospective and audit reports and the
// index, and returns the index path.
func WriteAll(ctx context.Context, data Data, opts Options) (string, error) {
	res, err := Write(ctx, data, opts, Kinds...)
	if err != nil {
		return "", err
	}
	return res.Index, nil
}

// Write renders the given report kinds. Every page is rendered before the
// first file is written, so a failing query leaves Out as it was.
func Write(ctx context.Context, data Data, opts Options, kinds ...string) (*Result, error) {
	if opts.Out == "" {
		return nil, errors.New("reports: no output folder")
	}
	w, err := newWriter(ctx, data, opts)
	if err != nil {
		return nil, err
	}
	for _, k := range kinds {
		switch k {
		case Leadership:
			err = w.leadership(ctx)
		case Retro:
			err = w.retro(ctx)
		case Audit:
			err = w.audit(ctx)
		default:
			err = fmt.Errorf("reports: unknown report %q (one of %s)", k, strings.Join(Kinds, ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	return w.flush()
}

// WriteDashboard renders one dashboard spec as a page of its own.
func WriteDashboard(ctx context.Context, data Data, opts Options, spec dashboards.Spec) (*Result, error) {
	if opts.Out == "" {
		return nil, errors.New("reports: no output folder")
	}
	w, err := newWriter(ctx, data, opts)
	if err != nil {
		return nil, err
	}
	if err := w.dashboard(ctx, spec); err != nil {
		return nil, err
	}
	return w.flush()
}

// writer collects rendered pages in memory until flush.
type writer struct {
	data     Data
	opts     Options
	from, to time.Time
	pages    []rendered
	extras   []rendered // files beside the pages (full tables as CSV), not in the index

	metricsCache map[string]*output.Table
	svcTeams     map[string]string
	svcTeamsErr  bool

	// cov is what the warehouse holds (nil when the data layer cannot
	// say); period and prev are the period and the one before with their
	// coverage; periodNote says how the period was chosen.
	cov          *coverage.Coverage
	period, prev coverage.Period
	periodNote   string
	// csv writes every table beside its page as CSV and links it (not for
	// a page served from memory).
	csv bool
}

type rendered struct {
	file, title, kind string
	body              []byte
}

func newWriter(ctx context.Context, data Data, opts Options) (*writer, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC()
	cov, err := loadCoverage(ctx, data, opts.Now)
	if err != nil {
		return nil, err
	}
	w := &writer{data: data, opts: opts, cov: cov, csv: true}
	given := !opts.From.IsZero() || !opts.To.IsZero()
	var def coverage.Period
	if !given && cov != nil {
		def = cov.Default("month", periodKinds...)
	}
	if !def.From.IsZero() && !def.To.IsZero() {
		w.from, w.to = def.From, def.To
	} else if w.from, w.to, err = Period(opts.From, opts.To, opts.Now); err != nil {
		return nil, err
	}
	w.period = w.state(w.from, w.to)
	w.period.Default = !given
	pf, pt := previous(w.from, w.to)
	w.prev = w.state(pf, pt)
	if cov != nil {
		w.periodNote = periodNote(def, given)
	} else if !given {
		w.periodNote = "the last full calendar month; --from and --to choose another"
	}
	if opts.Progress != nil {
		line := day(w.from) + " to " + day(w.to.Add(-time.Nanosecond))
		if w.periodNote != "" {
			line += " (" + w.periodNote + ")"
		}
		if w.period.State != coverage.Complete {
			line += "; " + string(w.period.State) + ": " + w.period.Reason
		}
		fmt.Fprintln(opts.Progress, "period: "+format.Wrap(line, opts.ProgressWidth, len("period: ")))
	}
	return w, nil
}

// Period resolves a report window without coverage: both given → as
// given; only To → the calendar month before To; only From → From to now;
// neither → the last full calendar month before now. (With coverage, the
// default is the last complete month that has data: see Options.)
func Period(from, to, now time.Time) (time.Time, time.Time, error) {
	from, to = from.UTC(), to.UTC()
	switch {
	case from.IsZero() && to.IsZero():
		to = monthStart(now)
		from = to.AddDate(0, -1, 0)
	case from.IsZero():
		from = monthStart(to.Add(-time.Nanosecond))
		if from.Equal(to) || to.Sub(from) < 24*time.Hour {
			from = to.AddDate(0, -1, 0)
		}
	case to.IsZero():
		to = now.UTC()
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("reports: --from %s is not before --to %s", day(from), day(to))
	}
	return from, to, nil
}

// previous returns the window of the same length just before [from, to);
// a whole number of calendar months steps back by months.
func previous(from, to time.Time) (time.Time, time.Time) {
	if from.Equal(monthStart(from)) && to.Equal(monthStart(to)) {
		months := (to.Year()-from.Year())*12 + int(to.Month()-from.Month())
		return from.AddDate(0, -months, 0), from
	}
	return from.Add(-to.Sub(from)), from
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func (w *writer) add(file, title, kind string, body []byte) {
	w.pages = append(w.pages, rendered{file: file, title: title, kind: kind, body: body})
	if w.opts.Progress != nil {
		fmt.Fprintf(w.opts.Progress, "rendered %s\n", file)
	}
}

// flush writes the asset, every page and the index. Each file is written to
// a temporary name and renamed into place.
func (w *writer) flush() (*Result, error) {
	out := w.opts.Out
	if err := os.MkdirAll(filepath.Join(out, "assets"), 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	res := &Result{From: w.from, To: w.to, Period: w.period}
	if err := writeFile(filepath.Join(out, filepath.FromSlash(EChartsPath)), echartsJS); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, EChartsPath)
	for _, p := range append(append([]rendered(nil), w.pages...), w.extras...) {
		if err := writeFile(filepath.Join(out, p.file), p.body); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, p.file)
	}
	idx, err := w.index()
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(out, "index.html"), idx); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, "index.html")
	sort.Strings(res.Files)
	res.Index = filepath.Join(out, "index.html")
	return res, nil
}

func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}

// RenderDashboard renders one spec to a page in memory, for a server that
// serves it (with EChartsJS at EChartsPath beside it) instead of writing
// files.
func RenderDashboard(ctx context.Context, data Data, opts Options, spec dashboards.Spec) ([]byte, error) {
	w, err := newWriter(ctx, data, opts)
	if err != nil {
		return nil, err
	}
	w.csv = false // served from memory: no files beside the page
	pg, err := w.specPage(ctx, spec)
	if err != nil {
		return nil, err
	}
	return pg.render()
}

// EChartsJS returns the embedded ECharts script that every page loads from
// EChartsPath.
func EChartsJS() []byte { return append([]byte(nil), echartsJS...) }
