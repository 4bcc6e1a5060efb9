package github

import (
	"context"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/internal/maptest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/transform"
)

// TestMapSkipsWhenNothingChanged: after a sync, mapping again with nothing
// changed writes nothing; a raw row added, updated or deleted, a changed
// service catalogue (the paths place a monorepo's pull requests), a changed
// setting and canonical rows altered by another writer each map again.
func TestMapSkipsWhenNothingChanged(t *testing.T) {
	h := newHarness(t)
	h.db = maptest.OpenFile(t)
	if _, err := h.db.ExecContext(context.Background(), `INSERT INTO services (id, name, team, repo, paths, source) VALUES
		('web', 'Web', 'frontend', 'acme/web', ['web/**'], 'file'),
		('web-admin', 'Web admin', 'frontend', 'acme/web', ['admin/**'], 'file'),
		('payments', 'Payments', 'money', 'acme/payments', NULL, 'file')`); err != nil {
		t.Fatal(err)
	}
	h.mustSync(h.source(nil))

	prodOnly := testConfig(h.fake.srv.URL)
	prodOnly.Deployments.ProductionEnvironments = []string{"production"}
	maptest.Check(t, h.db, Name, Tables, h.source(nil), []maptest.Case{
		{Name: "raw row added", Reason: "raw_github_pulls changed",
			SQL: `INSERT INTO raw_github_pulls SELECT repo, 99, updated_at, json_merge_patch(payload, '{"number": 99, "title": "Late pull"}'), fetched_at
				FROM raw_github_pulls WHERE repo = 'acme/payments' AND number = 10`},
		{Name: "raw row updated in place", Reason: "raw_github_deployment_statuses changed",
			SQL: `UPDATE raw_github_deployment_statuses SET payload = json_merge_patch(payload, '{"state": "failure"}')
				WHERE repo = 'acme/payments' AND deployment_id = 203`},
		{Name: "raw row deleted", Reason: "raw_github_reviews changed",
			SQL: `DELETE FROM raw_github_reviews WHERE repo = 'acme/payments' AND number = 10`},
		{Name: "service catalogue changed", Reason: "services changed",
			SQL: `UPDATE services SET paths = ['web/**', 'admin/**'] WHERE id = 'web'`},
		{Name: "setting changed", Reason: "rules or settings changed", Mapper: h.source(prodOnly), SQL: `SELECT 1`},
		{Name: "canonical row deleted by another writer", Reason: "canonical rows of deployments changed", Restores: true,
			SQL: `DELETE FROM deployments WHERE source = 'github' AND id = 'acme/payments/deployments/200'`},
		{Name: "canonical row updated by another writer", Reason: "canonical rows of changes changed", Restores: true,
			SQL: `UPDATE changes SET title = 'edited' WHERE source = 'github' AND id = 'acme/payments#10'`},
	})
}

// TestTransformAfterResyncSkipsTheMapping: a scheduled run (sync, then
// transform) maps GitHub once; the transform after a sync with nothing new
// leaves the source's rows alone and says so, and `transform --full` maps
// again.
func TestTransformAfterResyncSkipsTheMapping(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.db = maptest.OpenFile(t)
	cfg := config.Default()
	run := func(full bool) string {
		t.Helper()
		var progress strings.Builder
		s := h.source(nil)
		if err := transform.Run(ctx, h.db, cfg, transform.Options{Progress: &progress, Mappers: []ingest.Mapper{s}, Full: full}); err != nil {
			t.Fatalf("transform: %v\n%s", err, progress.String())
		}
		return progress.String()
	}
	writes := func() int {
		var n int
		if err := h.db.QueryRow(`SELECT count(*) FROM canonical_writes WHERE source = 'github'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	h.mustSync(h.source(nil))
	if writes() == 0 {
		t.Fatal("the first sync logged no canonical write")
	}
	if out := run(false); !strings.Contains(out, "unchanged github") {
		t.Errorf("the transform after the sync mapped again:\n%s", out)
	}
	h.mustSync(h.source(nil)) // nothing new: every request a 304
	if n := writes(); n != 0 {
		t.Errorf("a sync with nothing new logged %d canonical write(s) of github", n)
	}
	out := run(false)
	for _, want := range []string{"unchanged github", "transform: nothing changed since the last build"} {
		if !strings.Contains(out, want) {
			t.Errorf("transform after a sync with nothing new lacks %q:\n%s", want, out)
		}
	}
	if out := run(true); !strings.Contains(out, "mapped github") || !strings.Contains(out, "(forced)") {
		t.Errorf("transform --full did not map again:\n%s", out)
	}
}
