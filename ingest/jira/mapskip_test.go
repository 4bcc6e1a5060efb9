package jira

import (
	"testing"

	"github.com/shiplog/shiplog/ingest/internal/maptest"
)

// TestMapSkipsWhenNothingChanged: after a sync, mapping again with nothing
// changed writes nothing; a raw row added, updated or deleted, a changed
// setting and canonical rows altered by another writer each map again.
func TestMapSkipsWhenNothingChanged(t *testing.T) {
	h := newHarness(t, "cloud", nil)
	h.db = maptest.OpenFile(t)
	if _, err := h.sync(t); err != nil {
		t.Fatalf("sync: %v\n%s", err, h.log.String())
	}

	// Critical means sev1 now (OPS-4 was sev2).
	c := *h.src.cfg
	inc := *c.Incidents
	inc.SeverityValues = map[string]string{"Critical": "sev1"}
	c.Incidents = &inc
	changed, err := New(&c, func(string) string { return "s3cret-token" })
	if err != nil {
		t.Fatal(err)
	}
	maptest.Check(t, h.db, Name, Tables, h.src, []maptest.Case{
		{Name: "raw row added", Reason: "raw_jira_issues changed",
			SQL: `INSERT INTO raw_jira_issues SELECT query, 'OPS-99', id || '99', project, updated,
				json_merge_patch(payload, '{"key": "OPS-99", "id": "` + `9999"}'), fetched_at, gone_at, gone_reason
				FROM raw_jira_issues WHERE key = 'OPS-1'`},
		{Name: "raw row updated in place", Reason: "raw_jira_versions changed",
			SQL: `UPDATE raw_jira_versions SET payload = json_merge_patch(payload, '{"description": "moved"}'),
				fetched_at = fetched_at WHERE id = (SELECT min(id) FROM raw_jira_versions)`},
		{Name: "raw row deleted", Reason: "raw_jira_changelogs changed",
			SQL: `DELETE FROM raw_jira_changelogs WHERE issue_key = 'OPS-3'`},
		{Name: "setting changed", Reason: "rules or settings changed", Mapper: changed, SQL: `SELECT 1`},
		{Name: "canonical row deleted by another writer", Reason: "canonical rows of incidents changed", Restores: true,
			SQL: `DELETE FROM incidents WHERE source = 'jira' AND id = 'OPS-1'`},
		{Name: "canonical row updated by another writer", Reason: "canonical rows of support_tickets changed", Restores: true,
			SQL: `UPDATE support_tickets SET priority = 'edited' WHERE source = 'jira'`},
	})
}
