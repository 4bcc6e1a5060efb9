package coverage

import (
	"sort"
	"time"
)

// DefaultKinds are the kinds whose data decides the default period of the
// reports and of `shiplog audit`: deployments, which every page measures
// and every control but one judges. One list, so that `report all`,
// `report audit` and `audit` without dates cover the same month.
var DefaultKinds = []string{"deployment"}

// Count is what one source sent of one kind on one UTC day.
type Count struct {
	Source, Kind string
	Day          time.Time
	N            int64
	// First and Last are the day's first and last event times; zero means
	// the day itself.
	First, Last time.Time
}

// New builds a Coverage from per-day counts and ingest histories, for a
// data layer that is not a warehouse (and for tests of the pages that show
// it). Kinds are canonical kind names; their tables are filled in.
func New(now time.Time, staleAfter time.Duration, counts []Count, ingests []Ingest) *Coverage {
	c := &Coverage{GeneratedAt: now.UTC(), StaleAfter: staleAfter, Ingests: append([]Ingest(nil), ingests...)}
	tables := map[string]string{}
	for _, e := range EventTimes() {
		tables[e.Kind] = e.Table
	}
	idx := map[[2]string]int{}
	for _, n := range counts {
		key := [2]string{n.Source, n.Kind}
		i, ok := idx[key]
		if !ok {
			i = len(c.Sources)
			idx[key] = i
			c.Sources = append(c.Sources, Source{Source: n.Source, Kind: n.Kind, Table: tables[n.Kind], days: map[time.Time]int64{}})
		}
		s := &c.Sources[i]
		s.Rows += n.N
		day := Day(n.Day)
		s.days[day] += n.N
		first, last := n.First, n.Last
		if first.IsZero() {
			first = day
		}
		if last.IsZero() {
			last = day
		}
		if s.First.IsZero() || first.Before(s.First) {
			s.First = first.UTC()
		}
		if last.After(s.Last) {
			s.Last = last.UTC()
		}
	}
	last := map[string]time.Time{}
	for _, in := range c.Ingests {
		last[in.Source] = in.LastSuccess
	}
	for i := range c.Sources {
		c.Sources[i].LastIngest = last[c.Sources[i].Source]
	}
	sort.SliceStable(c.Sources, func(a, b int) bool {
		if c.Sources[a].Kind != c.Sources[b].Kind {
			return kindOrder(c.Sources[a].Kind) < kindOrder(c.Sources[b].Kind)
		}
		return c.Sources[a].Source < c.Sources[b].Source
	})
	return c
}

// Names says kinds in words, as the reasons of a Period do: "deployments",
// "deployments and incidents"; "data" for none.
func Names(kinds ...string) string { return names(kinds) }
