package coverage

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/format"
)

// Document is the JSON form of the coverage, for the "coverage" member of
// a command's JSON output (and, later, the reports' data):
//
//	{generated_at, from, to, through, last_ingest, stale, stale_after_hours,
//	 sources: [{source, kind, table, rows, first, last, last_ingest}],
//	 ingests: [{source, last_success, last_run, last_status, runs}]}
//
// from, to and through are the range of the given kinds (all when none);
// times are RFC 3339 UTC, unknown ones null.
func (c *Coverage) Document(kinds ...string) map[string]any {
	r := c.Range(kinds...)
	sources := make([]any, 0, len(c.Sources))
	for _, s := range c.Sources {
		sources = append(sources, map[string]any{
			"source": s.Source, "kind": s.Kind, "table": s.Table, "rows": s.Rows,
			"first": timeOrNil(s.First), "last": timeOrNil(s.Last), "last_ingest": timeOrNil(s.LastIngest),
		})
	}
	ingests := make([]any, 0, len(c.Ingests))
	for _, in := range c.Ingests {
		ingests = append(ingests, map[string]any{
			"source": in.Source, "last_success": timeOrNil(in.LastSuccess), "last_run": timeOrNil(in.LastRun),
			"last_status": in.LastStatus, "runs": in.Runs,
		})
	}
	doc := map[string]any{
		"generated_at":      c.GeneratedAt.Format(time.RFC3339),
		"kinds":             kinds,
		"from":              timeOrNil(r.First),
		"to":                timeOrNil(r.Last),
		"through":           timeOrNil(r.Through),
		"last_ingest":       timeOrNil(c.LastIngest()),
		"stale":             c.Stale(),
		"stale_after_hours": c.StaleAfter.Hours(),
		"sources":           sources,
		"ingests":           ingests,
	}
	if kinds == nil {
		doc["kinds"] = []string{}
	}
	return doc
}

// Document is the JSON form of a period: {from, to, state, reason,
// default}; from and to are never null when the warehouse has data.
func (p Period) Document() map[string]any {
	d := map[string]any{
		"from":    timeOrNil(p.From),
		"to":      timeOrNil(p.To),
		"state":   string(p.State),
		"default": p.Default,
	}
	if p.Reason != "" {
		d["reason"] = p.Reason
	}
	return d
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// Text is the period for people: "2026-10-01 to 2026-10-31" (the last day
// included), with its state when not complete ("…, partial: deployments
// begin 2026-10-12").
func (p Period) Text() string {
	if p.From.IsZero() || p.To.IsZero() {
		return "no data"
	}
	s := day(p.From) + " to " + day(p.To.Add(-time.Nanosecond))
	if p.State != Complete && p.Reason != "" {
		s += ", " + string(p.State) + ": " + p.Reason
	}
	return s
}

// Summary is one line for people about the data behind the given kinds:
// their range, the last successful ingest and whether the warehouse is
// stale. For example:
//
//	data: deployments 2026-05-01 to 2026-10-30; last ingest 2026-12-06 01:04 UTC (demo)
func (c *Coverage) Summary(kinds ...string) string {
	r := c.Range(kinds...)
	what := names(kinds)
	var b strings.Builder
	b.WriteString("data: ")
	switch {
	case r.First.IsZero():
		fmt.Fprintf(&b, "no %s", what)
	case len(kinds) == 0:
		fmt.Fprintf(&b, "%s to %s", day(r.First), day(r.Last))
	default:
		fmt.Fprintf(&b, "%s %s to %s", what, day(r.First), day(r.Last))
	}
	last := c.LastIngest()
	switch {
	case len(c.Ingests) == 0:
		b.WriteString("; no ingest recorded")
	case last.IsZero():
		b.WriteString("; no ingest has succeeded")
	default:
		fmt.Fprintf(&b, "; last ingest %s UTC", last.UTC().Format("2006-01-02 15:04"))
		var srcs []string
		for _, in := range c.Ingests {
			if in.LastSuccess.Equal(last) {
				srcs = append(srcs, in.Source)
			}
		}
		if len(srcs) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(srcs, ", "))
		}
	}
	if c.Stale() {
		if last.IsZero() {
			b.WriteString("; STALE")
		} else {
			fmt.Fprintf(&b, "; STALE: %s old, over %s", age(c.GeneratedAt.Sub(last)), age(c.StaleAfter))
		}
	}
	return b.String()
}

// age says a duration in whole days, or hours below two days.
func age(d time.Duration) string {
	if h := d.Hours(); h < 48 {
		return fmt.Sprintf("%.0f h", h)
	}
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}

// Note writes, for people, the period shown and the coverage summary of
// the kinds, one line each ("period: …", "data: …"), wrapped under their
// text at width (0: not wrapped). what describes how the period was chosen
// when it was not given ("all data").
func (c *Coverage) Note(w io.Writer, width int, p Period, what string, kinds ...string) {
	line := p.Text()
	if what != "" {
		line += " (" + what + ")"
	}
	fmt.Fprintln(w, "period: "+format.Wrap(line, width, len("period: ")))
	fmt.Fprintln(w, "data: "+format.Wrap(strings.TrimPrefix(c.Summary(kinds...), "data: "), width, len("data: ")))
}
