package drift

import (
	"context"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// A root commit has no parents; a source may store that as NULL rather
// than an empty list. The graph must load either way.
func TestLoadGraphRootWithNullParents(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO commits (sha, repo, parents, authored_at, source) VALUES
		('a1', 'r', NULL, '2026-01-01T00:00:00Z', 't'),
		('b2', 'r', ['a1'], '2026-01-02T00:00:00Z', 't')`); err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	g, err := LoadGraph(ctx, db, []string{"b2"})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Has("a1") || !g.Has("b2") {
		t.Fatalf("graph lacks a commit: %+v", g.parents)
	}
	if len(g.parents["a1"]) != 0 || len(g.parents["b2"]) != 1 || g.parents["b2"][0] != "a1" {
		t.Errorf("parents %v", g.parents)
	}
}
