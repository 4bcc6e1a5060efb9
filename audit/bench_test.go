package audit

import (
	"context"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// benchData generates a year of history for 50 services: 20,000
// production deployments (one in ten without a change request), 18,000
// change requests with one approval each, 40,000 changes, 2,000 rollbacks,
// and 500 gate decisions.
const benchData = `
INSERT INTO services (id, team, allowed_deployers, rollback_authority, release_managers, source)
SELECT 'svc' || i, 'team' || (i % 10), ['ci-bot', 'dev' || i], ['release_managers'], ['rm' || i], 'file' FROM range(50) t(i);
INSERT INTO change_requests (id, services, risk, requested_by, created_at, planned_start, planned_end, status, implemented_at, source)
SELECT 'CR-' || i, ['svc' || (i % 50)], CASE WHEN i % 7 = 0 THEN 'standard' WHEN i % 31 = 0 THEN 'emergency' ELSE 'normal' END,
       'user' || (i % 200), TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 29),
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 29 + 60), TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 29 + 180),
       'implemented', TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 29 + 120), 'file'
FROM range(18000) t(i);
INSERT INTO approvals (change_request, approver, role, decision, decided_at, source)
SELECT 'CR-' || i, 'user' || ((i + 1) % 200), 'peer', 'approved', TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 29 + 30), 'file'
FROM range(18000) t(i);
INSERT INTO deployments (id, service, environment, started_at, finished_at, status, version, triggered_by, change_request, is_rollback, rollback_of, source)
SELECT 'D-' || i, 'svc' || (i % 50), 'production',
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 26 + 90), TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 26 + 100),
       'success', 'v' || i, CASE WHEN i % 13 = 0 THEN 'intruder' ELSE 'ci-bot' END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'CR-' || (i % 18000) END,
       i % 10 = 5, CASE WHEN i % 10 = 5 THEN 'D-' || (i - 1) END, 'file'
FROM range(20000) t(i);
INSERT INTO changes (id, service, first_commit_at, merged_at, approvals, source)
SELECT 'org/r#' || i, 'svc' || (i % 50), TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 13),
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 13 + 600), i % 4, 'file'
FROM range(40000) t(i);
INSERT INTO gate_decisions (service, version, decision, criteria, decided_at)
SELECT 'svc' || (i * 40 % 50), 'v' || (i * 40), CASE WHEN i % 3 = 0 THEN 'no-go' ELSE 'go' END, '[]',
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 40 * 26)
FROM range(500) t(i);
`

// BenchmarkAudit runs all nine controls over the generated year.
func BenchmarkAudit(b *testing.B) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(benchData); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.Calendar.Freezes = []config.Freeze{{Name: "xmas", Start: "2025-12-20 00:00", End: "2026-01-02 00:00"}}
	opts := Options{Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(ctx, db, cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		if res.Failed() == 0 {
			b.Fatal("no findings in generated data")
		}
	}
}
