package calendar

import (
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/output"
)

// Group is the conflicts between the same releases' services of one kind
// in one environment: the same pair of services once, with how often they
// collided.
type Group struct {
	Kind        string
	Environment string
	// Services and Others are the two sides (one side for freeze and
	// outside_window), each sorted and comma-joined; Services <= Others.
	Services, Others string
	Count            int
	First, Last      time.Time // the earliest and latest overlap start
	Example          string    // the first conflict's detail
}

// kindRank orders the kinds by what a release manager acts on first: a
// dependency released at the same time, a release in a freeze, outside
// the windows, then two unrelated releases sharing an environment.
var kindRank = map[string]int{ConflictDependency: 0, ConflictFreeze: 1, ConflictWindow: 2, ConflictEnvironment: 3}

// Groups groups the conflicts by kind, environment and pair of services
// (in either order) and ranks the groups: by kind (dependency, freeze,
// outside_window, environment), then most conflicts first, then by
// services. Only conflicts whose overlap falls in [from, to) count (zero
// bounds are open): two long windows that overlap outside the range are
// not a conflict of the range.
func Groups(cs []Conflict, from, to time.Time) []Group {
	idx := map[string]int{}
	var out []Group
	for _, c := range cs {
		if !from.IsZero() && !c.End.After(from) && !(c.Start.Equal(c.End) && c.Start.Equal(from)) {
			continue
		}
		if !to.IsZero() && !c.Start.Before(to) {
			continue
		}
		a := side(c.Event.Services)
		b := ""
		if c.Other != nil {
			b = side(c.Other.Services)
			if b < a {
				a, b = b, a
			}
		}
		key := c.Kind + "\x00" + c.Environment + "\x00" + a + "\x00" + b
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Group{Kind: c.Kind, Environment: c.Environment, Services: a, Others: b, First: c.Start, Last: c.Start, Example: c.Detail})
		}
		g := &out[i]
		g.Count++
		if c.Start.Before(g.First) {
			g.First, g.Example = c.Start, c.Detail
		}
		if c.Start.After(g.Last) {
			g.Last = c.Start
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Services != b.Services {
			return a.Services < b.Services
		}
		return a.Others < b.Others
	})
	return out
}

func side(services []string) string {
	s := append([]string(nil), services...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// GroupsTable lists the groups, ranked, one row each.
func GroupsTable(gs []Group) *output.Table {
	t := &output.Table{Columns: []string{"rank", "conflict", "environment", "services", "other_services", "conflicts", "first", "last", "example"}}
	for i, g := range gs {
		t.Rows = append(t.Rows, []any{int64(i + 1), g.Kind, g.Environment, g.Services, nullable(g.Others), int64(g.Count), g.First, g.Last, g.Example})
	}
	return t
}

// OfServices keeps the conflicts that involve one of the services.
func OfServices(cs []Conflict, services []string) []Conflict { return filterConflicts(cs, services) }
