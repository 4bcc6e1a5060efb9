package gitlab

import (
	"testing"

	"github.com/shiplog/shiplog/ingest/internal/maptest"
)

// TestMapSkipsWhenNothingChanged: after a sync, mapping again with nothing
// changed writes nothing; a raw row added, updated or deleted, a changed
// setting and canonical rows altered by another writer each map again.
func TestMapSkipsWhenNothingChanged(t *testing.T) {
	h := newHarness(t)
	h.db = maptest.OpenFile(t)
	h.mustSync(h.source(nil))

	renamed := testConfig(h.fake.srv.URL)
	renamed.Services = map[string]string{"acme/platform/web": "web-ui"}
	maptest.Check(t, h.db, Name, Tables, h.source(nil), []maptest.Case{
		{Name: "raw row added", Reason: "raw_gitlab_merge_requests changed",
			SQL: `INSERT INTO raw_gitlab_merge_requests SELECT project, 999, updated_at, origin,
				json_merge_patch(payload, '{"iid": 999, "title": "Late merge request"}'), fetched_at
				FROM raw_gitlab_merge_requests WHERE project = 'acme/payments' AND iid = 10`},
		{Name: "raw row updated in place", Reason: "raw_gitlab_merge_requests changed",
			SQL: `UPDATE raw_gitlab_merge_requests SET payload = json_merge_patch(payload, '{"title": "Renamed"}')
				WHERE project = 'acme/payments' AND iid = 10`},
		{Name: "raw row deleted", Reason: "raw_gitlab_mr_commits changed",
			SQL: `DELETE FROM raw_gitlab_mr_commits WHERE project = 'acme/payments'`},
		{Name: "setting changed", Reason: "rules or settings changed", Mapper: h.source(renamed), SQL: `SELECT 1`},
		{Name: "canonical row deleted by another writer", Reason: "canonical rows of changes changed", Restores: true,
			SQL: `DELETE FROM changes WHERE source = 'gitlab' AND id = 'acme/payments!10'`},
		{Name: "canonical row updated by another writer", Reason: "canonical rows of deployments changed", Restores: true,
			SQL: `UPDATE deployments SET version = 'edited' WHERE source = 'gitlab'`},
	})
}
