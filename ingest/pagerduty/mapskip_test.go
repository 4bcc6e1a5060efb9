package pagerduty_test

import (
	"testing"

	"github.com/shiplog/shiplog/ingest/internal/maptest"
	"github.com/shiplog/shiplog/ingest/pagerduty"
)

// TestMapSkipsWhenNothingChanged: after a sync, mapping again with nothing
// changed writes nothing; a raw row added, updated or deleted, a changed
// setting and canonical rows altered by another writer each map again.
func TestMapSkipsWhenNothingChanged(t *testing.T) {
	h := newHarness(t, nil)
	h.db = maptest.OpenFile(t)
	if _, err := h.sync(t); err != nil {
		t.Fatalf("sync: %v\n%s", err, h.log.String())
	}
	base := h.src
	// the severity of wantCustomSeverity
	h.cfg.Severity = map[string]string{"P3": "sev2", "high": "sev1"}
	h.build(t)
	changed := h.src

	maptest.Check(t, h.db, pagerduty.Name, []string{"incidents"}, base, []maptest.Case{
		{Name: "raw row added", Reason: "raw_pagerduty_incidents changed",
			SQL: `INSERT INTO raw_pagerduty_incidents SELECT * REPLACE ('PNEW001' AS id,
				json_merge_patch(payload, '{"id": "PNEW001", "incident_number": 9999}') AS payload)
				FROM raw_pagerduty_incidents WHERE id = 'PT4KHLK'`},
		{Name: "raw row updated in place", Reason: "raw_pagerduty_incidents changed",
			SQL: `UPDATE raw_pagerduty_incidents SET payload = json_merge_patch(payload, '{"title": "Renamed"}') WHERE id = 'PX3M9KD'`},
		{Name: "raw row deleted", Reason: "raw_pagerduty_log_entries changed",
			SQL: `DELETE FROM raw_pagerduty_log_entries WHERE incident_id = 'PT4KHLK'`},
		{Name: "setting changed", Reason: "rules or settings changed", Mapper: changed, SQL: `SELECT 1`},
		{Name: "canonical row deleted by another writer", Reason: "canonical rows of incidents changed", Restores: true,
			SQL: `DELETE FROM incidents WHERE source = 'pagerduty' AND id = 'PT4KHLK'`},
		{Name: "canonical row updated by another writer", Reason: "canonical rows of incidents changed", Restores: true,
			SQL: `UPDATE incidents SET title = 'edited' WHERE source = 'pagerduty' AND id = 'PX3M9KD'`},
	})
}
