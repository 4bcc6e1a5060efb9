package drift

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/shiplog/shiplog/internal/fixture"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// The expected values are worked out in testdata/calendar/README.md.

func fixtureDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, "../testdata/calendar/drift.jsonl")
	// the readers read the marts only
	if err := transform.Run(context.Background(), db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// cells renders a table as text rows: NULL as "-", times as RFC 3339 UTC,
// floats with up to 4 decimals.
func cells(t *output.Table, cols ...string) [][]string {
	idx := map[string]int{}
	for i, c := range t.Columns {
		idx[c] = i
	}
	var out [][]string
	for _, r := range t.Rows {
		var row []string
		for _, c := range cols {
			i, ok := idx[c]
			if !ok {
				panic("no column " + c)
			}
			switch v := r[i].(type) {
			case nil:
				row = append(row, "-")
			case time.Time:
				row = append(row, v.UTC().Format(time.RFC3339))
			case float64:
				row = append(row, fmt.Sprintf("%.4g", v))
			default:
				row = append(row, fmt.Sprint(v))
			}
		}
		out = append(out, row)
	}
	return out
}

func check(t *testing.T, what string, got, want [][]string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestEnvironments(t *testing.T) {
	db := fixtureDB(t)
	tab, err := Environments(context.Background(), db, config.Default(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "environments", cells(tab, "service", "environment", "version", "commit_sha", "deployed_at", "deployment_id"), [][]string{
		{"legacy", "production", "7", "deadbeef", "2026-05-04T00:00:00Z", "l-prod-1"},
		{"pay", "production", "1.0", "-", "2026-05-03T00:00:00Z", "p-prod-3"},
		{"pay", "staging", "2.0", "-", "2026-04-30T00:00:00Z", "p-stg-2"},
		{"shop", "production", "v1", "c3", "2026-05-02T10:00:00Z", "s-prod-1"},
		{"shop", "staging", "v2", "c5", "2026-05-05T10:00:00Z", "s-stg-2"},
		{"solo", "production", "2", "h1", "2026-05-02T00:00:00Z", "o-prod-1"},
		{"solo", "staging", "1", "s2", "2026-05-01T00:00:00Z", "o-stg-1"},
	})
}

var wantServices = [][]string{
	{"legacy", "7", "-", "-", "-", "-", "true"},
	{"pay", "1.0", "2.0", "-", "-", "-3", "false"},
	{"shop", "v1", "v2", "4", "0", "3", "false"},
	{"solo", "2", "1", "1", "1", "-1", "true"},
}

var serviceCols = []string{"service", "production_version", "staging_version", "commits_ahead", "commits_behind", "days_apart", "production_unstaged"}

func TestServices(t *testing.T) {
	db := fixtureDB(t)
	tab, err := Services(context.Background(), db, config.Default(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "services", cells(tab, serviceCols...), wantServices)
	tab, err = Services(context.Background(), db, config.Default(), Filter{Services: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "services (shop)", cells(tab, serviceCols...), wantServices[2:3])
}

func TestDependencies(t *testing.T) {
	db := fixtureDB(t)
	tab, err := Dependencies(context.Background(), db, config.Default(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "dependencies", cells(tab, "service", "version", "dependency", "tested_at", "tested_with", "tested_with_environment", "running_with", "dependency_behind"), [][]string{
		{"shop", "v1", "legacy", "2026-05-01T10:00:00Z", "6", "production", "7", "false"},
		{"shop", "v1", "pay", "2026-05-01T10:00:00Z", "2.0", "staging", "1.0", "true"},
		{"solo", "2", "legacy", "-", "-", "-", "7", "-"},
	})
}

// The named query must give the same staging/production comparison.
func TestNamedQuery(t *testing.T) {
	db := fixtureDB(t)
	body, err := os.ReadFile("../queries/retro/environment-drift.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		service string
		want    [][]string
	}{{"", wantServices}, {"solo", wantServices[3:]}} {
		rows, err := db.Query(string(body), sql.Named("service", tc.service))
		if err != nil {
			t.Fatal(err)
		}
		tab, err := output.FromRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "environment-drift "+tc.service, cells(tab, serviceCols...), tc.want)
	}
}

func TestGraphApart(t *testing.T) {
	// a ← b ← c ← m, a ← x ← m (m merges x), b ← y
	g := &Graph{parents: map[string][]string{
		"a": {}, "b": {"a"}, "c": {"b"}, "x": {"a"}, "m": {"c", "x"}, "y": {"b"},
	}}
	for _, tc := range []struct {
		a, b          string
		ahead, behind int
	}{
		{"m", "c", 2, 0}, // m, x
		{"c", "m", 0, 2},
		{"m", "y", 3, 1}, // m, c, x (b and a are shared); y
		{"m", "m", 0, 0},
		{"m", "a", 4, 0},
	} {
		ahead, behind := g.Apart(tc.a, tc.b)
		if ahead != tc.ahead || behind != tc.behind {
			t.Errorf("Apart(%s, %s) = %d, %d; want %d, %d", tc.a, tc.b, ahead, behind, tc.ahead, tc.behind)
		}
	}
}
