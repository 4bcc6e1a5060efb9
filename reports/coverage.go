package reports

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// CoverageData is a Data that can say what the warehouse holds and for
// when (internal/coverage). With it, the default period is the last
// complete month that has data, every page states the data range per
// source and the period's coverage, and a stale warehouse is flagged;
// without it, the pages say the coverage is unknown.
type CoverageData interface {
	Coverage(ctx context.Context, now time.Time) (*coverage.Coverage, error)
}

// periodKinds are the kinds whose coverage decides the default period and
// whether a period is complete, partial or empty: the same as `audit`'s
// default (coverage.DefaultKinds).
var periodKinds = coverage.DefaultKinds

// pageKinds are the kinds whose range each page states.
var pageKinds = []string{"deployment", "change", "incident", "change_request", "support_ticket"}

// loadCoverage asks the data layer for the coverage, if it can give it.
func loadCoverage(ctx context.Context, data Data, now time.Time) (*coverage.Coverage, error) {
	cd, ok := data.(CoverageData)
	if !ok {
		return nil, nil
	}
	c, err := cd.Coverage(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return c, nil
}

// state returns how much of [from, to) the data covers; Complete when the
// coverage is unknown (nothing to say).
func (w *writer) state(from, to time.Time) coverage.Period {
	if w.cov == nil {
		return coverage.Period{From: from, To: to, State: coverage.Complete}
	}
	return w.cov.Period(from, to, periodKinds...)
}

// withCoverage adds to a page what the data covers: the period's state in
// words, the stale warning, one line on the data's range and, at the end,
// the range per source and kind.
func (w *writer) withCoverage(pg *page) {
	pg.PeriodNote = w.periodNote
	if w.cov == nil {
		pg.DataLine = "Data coverage unknown: this data layer does not report it."
		return
	}
	p := w.period
	switch p.State {
	case coverage.Empty:
		pg.Notice = "No data for this period: " + p.Reason + ". Nothing below is a zero; there is nothing to measure."
	case coverage.Partial:
		pg.Notice = "Partial period: " + p.Reason + ". Figures cover only part of the period."
	}
	if w.cov.Stale() {
		pg.Stale = staleText(w.cov)
	}
	pg.DataLine = dataLine(w.cov)
	t := coverageTable(w.cov)
	ht, err := htmlTableOf(t, nil, 0)
	if err == nil && len(t.Rows) > 0 {
		pg.CoverageTable = ht
		pg.coverageRaw = t
	}
}

// staleText says how old the data is, for the banner on every page.
func staleText(c *coverage.Coverage) string {
	last := c.LastIngest()
	limit := format.DurationWords(c.StaleAfter.Hours())
	if last.IsZero() {
		return fmt.Sprintf("Stale data: no ingest has succeeded (the limit is %s, reports.stale_after). Figures may be missing recent events.", limit)
	}
	age := format.DurationWords(c.GeneratedAt.Sub(last).Hours())
	return fmt.Sprintf("Stale data: the last successful ingest was %s ago (%s UTC), over the %s limit (reports.stale_after). Figures may be missing recent events.",
		age, last.UTC().Format("2006-01-02 15:04"), limit)
}

// dataLine is the one-line range of the data behind the pages.
func dataLine(c *coverage.Coverage) string {
	var parts []string
	for _, k := range pageKinds {
		r := c.Range(k)
		if r.First.IsZero() {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s to %s", coverage.Names(k), day(r.First), day(r.Last)))
	}
	s := "Data: "
	if len(parts) == 0 {
		s += "none"
	} else {
		s += strings.Join(parts, "; ")
	}
	last := c.LastIngest()
	switch {
	case len(c.Ingests) == 0:
		s += ". No ingest recorded."
	case last.IsZero():
		s += ". No ingest has succeeded."
	default:
		s += ". Last successful ingest " + last.UTC().Format("2006-01-02 15:04") + " UTC."
	}
	return s
}

// coverageTable is the range per source and kind of the kinds with event
// times.
func coverageTable(c *coverage.Coverage) *output.Table {
	t := &output.Table{Columns: []string{"kind", "source", "rows", "first", "last", "last_ingest"},
		Kinds: map[string]format.Kind{"kind": format.Text, "source": format.Text, "rows": format.Count,
			"first": format.Time, "last": format.Time, "last_ingest": format.Time}}
	for _, s := range c.Sources {
		if s.First.IsZero() {
			continue
		}
		var ingest any
		if !s.LastIngest.IsZero() {
			ingest = s.LastIngest
		}
		t.Rows = append(t.Rows, []any{coverage.Names(s.Kind), s.Source, s.Rows, s.First, s.Last, ingest})
	}
	return t
}

// periodNote says how the period was chosen when it was not given.
func periodNote(p coverage.Period, given bool) string {
	if given {
		return ""
	}
	if p.Default && p.State == coverage.Complete {
		return "the last complete month with deployment data; --from and --to choose another"
	}
	if p.Default {
		return "the last month with deployment data, though not complete; --from and --to choose another"
	}
	return "no deployment data to choose from: the last full calendar month; --from and --to choose another"
}

func coverageDay(t time.Time) time.Time { return coverage.Day(t) }
