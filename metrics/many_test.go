package metrics_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/metrics"
)

// TestComputeManyMatchesCompute asks for several filters in one batch —
// different levels, scopes, units and windows, an open window and one with
// no data — and checks that each table is the one Compute returns for that
// filter alone, so that the filters of a batch do not leak into each other.
// A few cells are also checked against the hand-worked README figures.
func TestComputeManyMatchesCompute(t *testing.T) {
	ctx := context.Background()
	db := fixtureDB(t, config.Default())
	dec := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fs := []metrics.Filter{
		{From: jan, To: feb, Level: "team", Teams: []string{"pay"}},
		{From: jan, To: feb, Level: "department"},
		{From: jan, To: feb, Level: "org"},
		{From: jan, To: feb, By: "week", Services: []string{"search"}},
		{From: dec, To: mar, By: "month", Level: "org"},
		{From: jan.AddDate(0, 0, 9), To: feb.AddDate(0, 0, -3), By: "quarter", Level: "team"},
		{Level: "service"},
		{Teams: []string{"no-such-team"}},
		{From: jan, To: feb, Services: []string{"api", "web"}},
	}
	got, err := metrics.ComputeMany(ctx, db, config.Default(), fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fs) {
		t.Fatalf("%d tables for %d filters", len(got), len(fs))
	}
	for i, f := range fs {
		want, err := metrics.Compute(ctx, db, config.Default(), f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("filter %d %+v: batch\n%v\nalone\n%v", i, f, got[i].Rows, want.Rows)
		}
	}
	// README "Team pay": 15 deployments, 7 failed; "Departments and
	// organisation": 18 in the organisation.
	if n := len(got[0].Rows); n != 1 {
		t.Fatalf("team pay: %d rows, want 1", n)
	}
	col := func(name string) int {
		for i, c := range got[0].Columns {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	deps, failed := col("deployments"), col("failed_deployments")
	if d, f := got[0].Rows[0][deps], got[0].Rows[0][failed]; d != int64(15) || f != int64(7) {
		t.Errorf("team pay: %v deployments, %v failed; want 15, 7", d, f)
	}
	if d := got[2].Rows[0][deps]; d != int64(18) {
		t.Errorf("org: %v deployments, want 18", d)
	}
	// December to February by month: three periods.
	if n := len(got[4].Rows); n != 3 {
		t.Errorf("org by month Dec–Feb: %d rows, want 3", n)
	}
	if n := len(got[7].Rows); n != 0 {
		t.Errorf("unknown team: %d rows, want none", n)
	}
}

func TestComputeManyChecksEveryFilter(t *testing.T) {
	db := fixtureDB(t, config.Default())
	_, err := metrics.ComputeMany(context.Background(), db, config.Default(), []metrics.Filter{{Level: "org"}, {By: "year"}})
	if err == nil {
		t.Fatal("a batch with --by year passed")
	}
}
