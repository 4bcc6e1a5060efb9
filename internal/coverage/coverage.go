// Package coverage says what the warehouse knows and for when: per source
// and kind of record, the first and last event and the rows, the last
// successful ingest of each source, whether the warehouse is stale, and
// whether a period is covered by the data (complete), only in part
// (partial) or not at all (empty).
//
// It is the one home of these rules for every output: `shiplog metrics`,
// `explain` and `audit` print a summary of it, and the reports use the same
// Coverage to choose their default period and to mark a period with no or
// partial data instead of drawing zeros. The rules:
//
//   - A kind's event time is the first required time of its canonical
//     record (a deployment's finished_at, an incident's opened_at …).
//   - The data is known up to Through: the later of the last event and the
//     last successful ingest of the sources that sent it (a source that ran
//     yesterday and found nothing new still vouches for yesterday).
//   - A period [from, to) is empty when no event of the kinds falls in it;
//     partial when the data begins after its first day or is known only up
//     to a day before its last; complete otherwise. Days are UTC days, so
//     data that begins at 10:00 on the 1st still covers the 1st.
//   - The default period is the last complete period (month, quarter or
//     week) that has data; when no period is complete, the last one with
//     data, marked partial.
//   - The warehouse is stale when its latest successful ingest (of any
//     source) is older than the configured age (reports.stale_after, 7
//     days by default), or when ingests ran and none succeeded. A warehouse
//     with no ingest recorded (rows written by SQL) is not called stale:
//     there is nothing to measure.
package coverage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// DefaultStaleAfter is the age of the last successful ingest beyond which
// the warehouse is stale, unless the configuration says otherwise.
const DefaultStaleAfter = 7 * 24 * time.Hour

// Source is what one source sent of one kind.
type Source struct {
	Source string
	Kind   string // canonical kind: deployment, incident …
	Table  string // its canonical table
	Rows   int64
	// First and Last are the earliest and latest event times (zero for
	// kinds without one: teams, services).
	First, Last time.Time
	// LastIngest is the source's last successful ingest (zero if none).
	LastIngest time.Time

	days map[time.Time]int64 // events per UTC day
}

// Ingest is the ingest history of one source.
type Ingest struct {
	Source      string
	LastSuccess time.Time // zero if none succeeded
	LastRun     time.Time
	LastStatus  string // running, success, failed, partial
	Runs        int64
}

// Coverage is what the warehouse holds, as of GeneratedAt.
type Coverage struct {
	GeneratedAt time.Time
	// StaleAfter is the age of the last successful ingest beyond which the
	// warehouse is stale; 0 never calls it stale.
	StaleAfter time.Duration
	Sources    []Source
	Ingests    []Ingest
}

// EventTime is the canonical table and event-time column of a kind.
type EventTime struct{ Kind, Table, Column string }

// EventTimes lists every canonical kind with its event time: the first
// required time (or date) field of its record. Kinds without one (team,
// service) have Column "".
func EventTimes() []EventTime {
	out := make([]EventTime, 0, len(canonical.Kinds))
	for _, k := range canonical.Kinds {
		e := EventTime{Kind: k.Name, Table: k.Table}
		for _, f := range k.Fields {
			if f.Required && (f.Type == canonical.Time || f.Type == canonical.Date) {
				e.Column = f.Name
				if f.Type == canonical.Date {
					// a date is midnight UTC of that day
					e.Column = "timezone('UTC', " + warehouse.QuoteIdent(f.Name) + "::TIMESTAMP)"
				} else {
					e.Column = warehouse.QuoteIdent(f.Name)
				}
				break
			}
		}
		out = append(out, e)
	}
	return out
}

// query is one statement over every canonical table: rows and event range
// per source, kind and UTC day. The day is counted from the epoch in whole
// days of microseconds, which is UTC by construction and much cheaper than
// converting every timestamp to a UTC date.
func query() string {
	var parts []string
	for _, e := range EventTimes() {
		if e.Column == "" {
			parts = append(parts, fmt.Sprintf(
				"select %s as kind, source, null::BIGINT as day, count(*) as n, null::TIMESTAMPTZ as first, null::TIMESTAMPTZ as last from %s group by source",
				warehouse.QuoteString(e.Kind), warehouse.QuoteIdent(e.Table)))
			continue
		}
		parts = append(parts, fmt.Sprintf(
			"select %[1]s as kind, source, floor(epoch_us(%[2]s) / 86400000000.0)::BIGINT as day, count(*) as n, min(%[2]s) as first, max(%[2]s) as last from %[3]s where %[2]s is not null group by source, day",
			warehouse.QuoteString(e.Kind), e.Column, warehouse.QuoteIdent(e.Table)))
	}
	return strings.Join(parts, "\nunion all\n")
}

const ingestQuery = `
select source,
       max(finished_at) filter (where status = 'success') as last_success,
       max(started_at) as last_run,
       arg_max(status, started_at) as last_status,
       count(*) as runs
from ingest_runs group by source order by source`

// Query is the statement Load runs over the canonical tables: one row per
// kind, source and UTC day (days since the epoch; NULL for kinds without an
// event time) with the row count and the first and last event time. The
// transform keeps its rows in SnapshotTable.
func Query() string { return query() }

// SnapshotTable holds Query's rows as the last transform read the
// canonical tables (migration 0111).
const SnapshotTable = "coverage_days"

// Load reads the coverage through q (an open warehouse: output.DB(db), or a
// serve endpoint). now is GeneratedAt; staleAfter as in Coverage.
func Load(ctx context.Context, q output.QueryFunc, now time.Time, staleAfter time.Duration) (*Coverage, error) {
	return loadFrom(ctx, q, query(), now, staleAfter)
}

// LoadBuilt is Load for the data the marts were built from: the rows the
// last transform kept in SnapshotTable, a few thousand however large the
// warehouse, rather than a pass over every canonical row. Rows ingested
// since that transform are not in the marts, and not counted here either;
// the ingest history (and so staleness) is read as Load reads it. Before
// any transform has recorded a snapshot it is Load.
func LoadBuilt(ctx context.Context, q output.QueryFunc, now time.Time, staleAfter time.Duration) (*Coverage, error) {
	// a warehouse no transform has written since migration 0110 has no
	// state row (or, read through an older serve, no table): read it all
	t, err := q(ctx, `SELECT count(*) FROM transform_state`)
	if err != nil || len(t.Rows) == 0 {
		return Load(ctx, q, now, staleAfter)
	}
	if n, _ := format.Float(t.Rows[0][0]); n == 0 {
		return Load(ctx, q, now, staleAfter)
	}
	return loadFrom(ctx, q, "SELECT kind, source, day, n, first, last FROM "+SnapshotTable, now, staleAfter)
}

func loadFrom(ctx context.Context, q output.QueryFunc, query string, now time.Time, staleAfter time.Duration) (*Coverage, error) {
	c := &Coverage{GeneratedAt: now.UTC(), StaleAfter: staleAfter}
	t, err := q(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	idx := map[[2]string]int{}
	tables := map[string]string{}
	for _, e := range EventTimes() {
		tables[e.Kind] = e.Table
	}
	for _, r := range t.Rows {
		kind, source := output.Text(r[0]), output.Text(r[1])
		key := [2]string{source, kind}
		i, ok := idx[key]
		if !ok {
			i = len(c.Sources)
			idx[key] = i
			c.Sources = append(c.Sources, Source{Source: source, Kind: kind, Table: tables[kind], days: map[time.Time]int64{}})
		}
		s := &c.Sources[i]
		n, _ := format.Float(r[3])
		s.Rows += int64(n)
		if day, ok := format.Float(r[2]); ok {
			s.days[time.UnixMicro(int64(day)*86400e6).UTC()] += int64(n)
		}
		if first, ok := asTime(r[4]); ok && (s.First.IsZero() || first.Before(s.First)) {
			s.First = first
		}
		if last, ok := asTime(r[5]); ok && last.After(s.Last) {
			s.Last = last
		}
	}
	if t, err = q(ctx, ingestQuery); err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	last := map[string]time.Time{}
	for _, r := range t.Rows {
		in := Ingest{Source: output.Text(r[0]), LastStatus: output.Text(r[3])}
		in.LastSuccess, _ = asTime(r[1])
		in.LastRun, _ = asTime(r[2])
		n, _ := format.Float(r[4])
		in.Runs = int64(n)
		c.Ingests = append(c.Ingests, in)
		last[in.Source] = in.LastSuccess
	}
	for i := range c.Sources {
		c.Sources[i].LastIngest = last[c.Sources[i].Source]
	}
	sort.Slice(c.Sources, func(a, b int) bool {
		if c.Sources[a].Kind != c.Sources[b].Kind {
			return kindOrder(c.Sources[a].Kind) < kindOrder(c.Sources[b].Kind)
		}
		return c.Sources[a].Source < c.Sources[b].Source
	})
	return c, nil
}

func kindOrder(kind string) int {
	for i, k := range canonical.Kinds {
		if k.Name == kind {
			return i
		}
	}
	return len(canonical.Kinds)
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999-07", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// Range is the data of some kinds, across their sources.
type Range struct {
	// First and Last are the earliest and latest events (zero when none).
	First, Last time.Time
	// Through is how far the data is known: the later of Last and the
	// last successful ingest of a source that sent these kinds.
	Through time.Time
	Rows    int64
}

// Range returns the data range of the given kinds (every kind with an
// event time when none is given).
func (c *Coverage) Range(kinds ...string) Range {
	var r Range
	for _, s := range c.sources(kinds) {
		r.Rows += s.Rows
		if !s.First.IsZero() && (r.First.IsZero() || s.First.Before(r.First)) {
			r.First = s.First
		}
		if s.Last.After(r.Last) {
			r.Last = s.Last
		}
		if s.LastIngest.After(r.Through) {
			r.Through = s.LastIngest
		}
	}
	if r.Last.After(r.Through) {
		r.Through = r.Last
	}
	return r
}

// sources returns the sources of the kinds that have an event time.
func (c *Coverage) sources(kinds []string) []*Source {
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var out []*Source
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.First.IsZero() || len(want) > 0 && !want[s.Kind] {
			continue
		}
		out = append(out, s)
	}
	return out
}

// Events counts the events of the kinds on the UTC days that [from, to)
// touches.
func (c *Coverage) Events(from, to time.Time, kinds ...string) int64 {
	lo, hi := Day(from), to.UTC()
	var n int64
	for _, s := range c.sources(kinds) {
		for d, k := range s.days {
			if !d.Before(lo) && d.Before(hi) {
				n += k
			}
		}
	}
	return n
}

// LastIngest is the latest successful ingest of any source (zero if none).
func (c *Coverage) LastIngest() time.Time {
	var t time.Time
	for _, in := range c.Ingests {
		if in.LastSuccess.After(t) {
			t = in.LastSuccess
		}
	}
	return t
}

// Stale reports whether the warehouse is stale (see the package comment).
func (c *Coverage) Stale() bool {
	if c.StaleAfter <= 0 || len(c.Ingests) == 0 {
		return false
	}
	last := c.LastIngest()
	return last.IsZero() || c.GeneratedAt.Sub(last) > c.StaleAfter
}

// State says how much of a period the data covers.
type State string

// States of a period.
const (
	Complete State = "complete"
	Partial  State = "partial"
	Empty    State = "empty"
)

// Period is a window [From, To) with how much of it the data covers.
type Period struct {
	From, To time.Time
	State    State
	// Reason says why a period is partial or empty, in words ("deployments
	// begin 2026-05-01", "nothing in this period; deployments run …").
	Reason string
	// Default says the period was chosen by the default rule rather than
	// given.
	Default bool
}

// Day is the UTC day that t falls in.
func Day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Period returns [from, to) with its state for the kinds (all when none).
// A zero from or to is taken from the data: the first day with data, the
// day after the last.
func (c *Coverage) Period(from, to time.Time, kinds ...string) Period {
	r := c.Range(kinds...)
	p := Period{From: from.UTC(), To: to.UTC()}
	if p.From.IsZero() && !r.First.IsZero() {
		p.From = Day(r.First)
	}
	if p.To.IsZero() && !r.Last.IsZero() {
		p.To = Day(r.Last).AddDate(0, 0, 1)
	}
	what := names(kinds)
	switch {
	case r.Rows == 0 || r.First.IsZero():
		p.State, p.Reason = Empty, "the warehouse has no "+what
	case p.From.IsZero() || p.To.IsZero() || c.Events(p.From, p.To, kinds...) == 0:
		p.State, p.Reason = Empty, fmt.Sprintf("nothing in this period; %s run %s to %s", what, day(r.First), day(r.Last))
	case Day(r.First).After(p.From):
		p.State, p.Reason = Partial, fmt.Sprintf("%s begin %s", what, day(r.First))
	case Day(r.Through).AddDate(0, 0, 1).Before(p.To):
		p.State, p.Reason = Partial, fmt.Sprintf("%s known up to %s", what, day(r.Through))
	default:
		p.State = Complete
	}
	return p
}

// Units are the period lengths the default rule knows.
var Units = []string{"week", "month", "quarter"}

// Start returns the start of the week (Monday), month or quarter of t, UTC.
func Start(unit string, t time.Time) time.Time {
	d := Day(t)
	switch unit {
	case "week":
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "quarter":
		return time.Date(d.Year(), d.Month()-(d.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Next returns the start of the period after the one starting at start.
func Next(unit string, start time.Time) time.Time {
	switch unit {
	case "week":
		return start.AddDate(0, 0, 7)
	case "quarter":
		return start.AddDate(0, 3, 0)
	}
	return start.AddDate(0, 1, 0)
}

// Previous returns the start of the period before the one at start.
func Previous(unit string, start time.Time) time.Time {
	switch unit {
	case "week":
		return start.AddDate(0, 0, -7)
	case "quarter":
		return start.AddDate(0, -3, 0)
	}
	return start.AddDate(0, -1, 0)
}

// Default returns the default period of the unit for the kinds: the last
// complete one that has data; failing that, the last one with data (then
// partial); with no data at all, an empty Period.
func (c *Coverage) Default(unit string, kinds ...string) Period {
	r := c.Range(kinds...)
	if r.First.IsZero() {
		p := c.Period(time.Time{}, time.Time{}, kinds...)
		p.Default = true
		return p
	}
	var lastWithData *Period
	first := Start(unit, r.First)
	for s := Start(unit, r.Through); !s.Before(first); s = Previous(unit, s) {
		p := c.Period(s, Next(unit, s), kinds...)
		p.Default = true
		if p.State == Complete {
			return p
		}
		if p.State == Partial && lastWithData == nil {
			lastWithData = &p
		}
	}
	if lastWithData != nil {
		return *lastWithData
	}
	p := c.Period(Start(unit, r.Last), Next(unit, Start(unit, r.Last)), kinds...)
	p.Default = true
	return p
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// names says kinds in words: "deployments", "deployments and change
// requests"; "data" for every kind.
func names(kinds []string) string {
	if len(kinds) == 0 {
		return "data"
	}
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = plural(k)
	}
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func plural(kind string) string {
	switch {
	case kind == "adoption":
		return "adoption records"
	case strings.HasSuffix(kind, "s"):
		return kind
	}
	return strings.ReplaceAll(kind, "_", " ") + "s"
}
