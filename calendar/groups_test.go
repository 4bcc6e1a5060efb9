package calendar

import (
	"testing"
	"time"
)

// Five conflicts: api and web collide twice (once with web first), api
// depends on db once, a freeze catches api once, and one api–web overlap
// lies before the range. Grouped: the dependency first, then the freeze,
// then api–web with 2 (the one outside the range left out).
func TestGroups(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 10, 5, h, 0, 0, 0, time.UTC) }
	ev := func(id string, svc ...string) Event {
		return Event{Kind: KindDeployment, ID: id, Services: svc, Environment: "production"}
	}
	pair := func(kind string, a, b Event, h int) Conflict {
		return Conflict{Kind: kind, Environment: "production", Event: a, Other: &b, Start: at(h), End: at(h + 1), Detail: a.ID + "/" + b.ID}
	}
	cs := []Conflict{
		pair(ConflictEnvironment, ev("d1", "api"), ev("d2", "web"), 10),
		pair(ConflictEnvironment, ev("d3", "web"), ev("d4", "api"), 12),
		pair(ConflictDependency, ev("d5", "api"), ev("d6", "db"), 14),
		{Kind: ConflictFreeze, Environment: "production", Event: ev("d7", "api"), Start: at(15), End: at(16), Detail: "freeze"},
		pair(ConflictEnvironment, ev("d0", "api"), ev("d9", "web"), 2),
	}
	gs := Groups(cs, at(8), at(20))
	if len(gs) != 3 {
		t.Fatalf("%d groups, want 3: %+v", len(gs), gs)
	}
	want := []struct {
		kind, a, b string
		n          int
		first      time.Time
	}{
		{ConflictDependency, "api", "db", 1, at(14)},
		{ConflictFreeze, "api", "", 1, at(15)},
		{ConflictEnvironment, "api", "web", 2, at(10)},
	}
	for i, w := range want {
		g := gs[i]
		if g.Kind != w.kind || g.Services != w.a || g.Others != w.b || g.Count != w.n || !g.First.Equal(w.first) {
			t.Errorf("group %d: %+v, want %+v", i+1, g, w)
		}
	}
	if gs[2].Example != "d1/d2" || !gs[2].Last.Equal(at(12)) {
		t.Errorf("api–web: example %q last %v", gs[2].Example, gs[2].Last)
	}
	// Without bounds the early overlap counts too.
	if gs := Groups(cs, time.Time{}, time.Time{}); gs[2].Count != 3 {
		t.Errorf("unbounded: api–web %d, want 3", gs[2].Count)
	}
}
