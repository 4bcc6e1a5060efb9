package audit_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/cli/demo/run"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/queries"
	"github.com/shiplog/shiplog/transform"
)

var (
	demoOnce sync.Once
	demoDB   *warehouse.DB
	demoErr  error
)

// demoWarehouse is the embedded demo organisation loaded, transformed with
// the demo's configuration (its freezes) and gated as `shiplog demo` gates
// it, once per test binary. Tests only read it.
func demoWarehouse(t *testing.T) *warehouse.DB {
	t.Helper()
	demoOnce.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "shiplog-audit-demo-")
		if err != nil {
			demoErr = err
			return
		}
		defer os.RemoveAll(dir)
		if demoDB, demoErr = warehouse.OpenMemory(ctx); demoErr != nil {
			return
		}
		var paths []string
		if paths, demoErr = demo.ExtractEmbedded(filepath.Join(dir, "data")); demoErr != nil {
			return
		}
		if _, demoErr = file.Load(ctx, demoDB, paths, file.Options{}); demoErr != nil {
			return
		}
		cfg := run.Config()
		if demoErr = transform.Run(ctx, demoDB, cfg, transform.Options{}); demoErr != nil {
			return
		}
		demoErr = run.RecordGates(ctx, demoDB, cfg, io.Discard)
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoDB
}

var demoNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func demoAudit(t *testing.T, from, to time.Time) *audit.Result {
	t.Helper()
	res, err := audit.Run(context.Background(), demoWarehouse(t), run.Config(), audit.Options{From: from, To: to, Now: demoNow})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func control(t *testing.T, res *audit.Result, name string) audit.Control {
	t.Helper()
	for _, c := range res.Controls {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no control %s", name)
	return audit.Control{}
}

// count runs hand-written SQL over the canonical tables (not the marts the
// controls read) and returns its single number.
func count(t *testing.T, sql string) int64 {
	t.Helper()
	var n int64
	if err := demoWarehouse(t).QueryRowContext(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

// prodDeployments are the production deployments the controls examine,
// from the canonical table: environment production or prod (the demo's
// configuration), success or failure.
const prodDeployments = `from deployments d
	where lower(trim(d.environment)) in ('production', 'prod') and d.status in ('success', 'failure')`

// TestDemoPreApprovedPasses: from August to October 2026 the demo has 503
// production deployments (481 successful, 22 failed attempts); 266 of them
// ran under a standard change request with no approval decision at all,
// and pass unapproved-production-change only because standard changes are
// pre-approved. The audit must say so, not count them with the 237 that an
// approval recorded before the start lets pass.
func TestDemoPreApprovedPasses(t *testing.T) {
	from, to := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	period := ` and d.finished_at >= '2026-08-01' and d.finished_at < '2026-11-01'`
	all := count(t, `select count(*) `+prodDeployments+period)
	ok := count(t, `select count(*) `+prodDeployments+period+` and d.status = 'success'`)
	standard := count(t, `select count(*) `+prodDeployments+period+`
		and exists (select 1 from change_requests r where r.id = d.change_request and r.risk = 'standard')
		and not exists (select 1 from approvals a where a.change_request = d.change_request)`)
	approvedBefore := count(t, `select count(*) `+prodDeployments+period+`
		and exists (select 1 from change_requests r where r.id = d.change_request and r.risk <> 'standard'
		            and r.status not in ('rejected', 'cancelled', 'draft'))
		and exists (select 1 from approvals a where a.change_request = d.change_request
		            and a.decision = 'approved' and a.decided_at <= coalesce(d.started_at, d.finished_at))`)
	if all != 503 || ok != 481 || standard != 266 || approvedBefore != 237 {
		t.Fatalf("canonical tables: %d production deployments (%d successful), %d standard without approval, %d approved before the start; want 503 (481), 266, 237",
			all, ok, standard, approvedBefore)
	}
	c := control(t, demoAudit(t, from, to), "unapproved-production-change")
	want := map[string]int64{audit.Evidence: 237, audit.PreApproved: 266, audit.Override: 0, audit.NotRequired: 0, audit.NotDue: 0, audit.Exempt: 0, audit.Failed: 0}
	if c.Checked != 503 || !reflect.DeepEqual(c.Outcomes, want) {
		t.Errorf("checked %d, outcomes %v; want 503, %v", c.Checked, c.Outcomes, want)
	}
	if c.Population != "production deployments" {
		t.Errorf("population %q", c.Population)
	}
}

// TestDemoOutcomeClasses: every control over all the demo's data. The
// failed subjects are the planted violations of internal/demo/README.md;
// the passing classes are counted again from the canonical tables where a
// class has a plain definition there.
func TestDemoOutcomeClasses(t *testing.T) {
	res := demoAudit(t, time.Time{}, time.Time{})
	type classes = map[string]int64
	cls := func(ev, pre, ov, nr, nd, failed int64) classes {
		return classes{audit.Evidence: ev, audit.PreApproved: pre, audit.Override: ov, audit.NotRequired: nr, audit.NotDue: nd, audit.Exempt: 0, audit.Failed: failed}
	}
	prod := count(t, `select count(*) `+prodDeployments)
	standard := count(t, `select count(*) `+prodDeployments+` and exists (select 1 from change_requests r where r.id = d.change_request and r.risk = 'standard')`)
	noWindow := count(t, `select count(*) `+prodDeployments+` and not exists (select 1 from change_requests r where r.id = d.change_request and r.planned_start is not null and r.planned_end is not null)`)
	rollbacks := count(t, `select count(*) `+prodDeployments+` and (d.is_rollback or d.rollback_of is not null)`)
	merged := count(t, `select count(*) from changes where merged_at is not null`)
	reviewed := count(t, `select count(*) from changes where merged_at is not null and approvals >= 1`)
	withApproval := count(t, `select count(distinct r.id) from change_requests r join approvals a on a.change_request = r.id and a.decision = 'approved'`)
	emergencies := count(t, `select count(*) from change_requests where risk = 'emergency'
		and coalesce(implemented_at, (select min(finished_at) from deployments d where d.change_request = change_requests.id)) is not null`)
	overrides := count(t, `select count(*) from gate_decisions where decision = 'override'`)
	if prod != 1031 || standard != 527 || noWindow != 2 || rollbacks != 25 || merged != 1766 || reviewed != 1763 || withApproval != 476 || emergencies != 19 || overrides != 1 {
		t.Fatalf("canonical counts: production %d, standard %d, no window %d, rollbacks %d, merged %d, reviewed %d, approved requests %d, emergencies %d, overrides %d",
			prod, standard, noWindow, rollbacks, merged, reviewed, withApproval, emergencies, overrides)
	}
	for _, tt := range []struct {
		control string
		checked int64
		classes classes
		failed  []string
	}{
		// 1031 = 500 approved before the start + 527 standard + 4 planted.
		{"unapproved-production-change", 1031, cls(500, 527, 0, 0, 0, 4),
			[]string{"deploy-api-gateway-0023", "deploy-auth-0011", "deploy-ledger-0012", "deploy-user-profile-0011"}},
		{"self-approval", 476, cls(474, 0, 0, 0, 0, 2), []string{"CHG-110002", "CHG-50002"}},
		// CHG-90015, reviewed 4 days 22 hours after, passes by evidence.
		{"emergency-without-review", 19, cls(17, 0, 0, 0, 0, 2), []string{"CHG-10010", "CHG-40015"}},
		{"unreviewed-change", 1766, cls(1763, 0, 0, 0, 0, 3), []string{"acme/commerce#171", "acme/etl#110", "acme/user-profile#115"}},
		// The two deployments without a change request have no window to
		// keep and ran in no freeze: nothing was required of them.
		{"outside-window", 1031, cls(1026, 0, 0, 2, 0, 3), []string{"deploy-catalog-0015", "deploy-search-0014", "deploy-web-storefront-0149"}},
		{"plan-vs-actual", 1957, cls(1955, 0, 0, 0, 0, 2), []string{"change_request:CHG-120005", "deployment:deploy-payment-gateway-0021"}},
		{"rollback-authority", 25, cls(24, 0, 0, 0, 0, 1), []string{"deploy-checkout-api-0031"}},
		{"deployer-not-allowed", 1031, cls(1030, 0, 0, 0, 0, 1), []string{"deploy-ledger-0022"}},
		// Five gated releases: three GO, auth 2.24.0 released over a NO-GO
		// with a reason, user-profile 3.15.0 deployed after a NO-GO.
		{"gate-override", 5, cls(3, 0, 1, 0, 0, 1), []string{"deploy-user-profile-0011"}},
	} {
		c := control(t, res, tt.control)
		var failed []string
		for _, f := range c.Findings {
			if f.Outcome(c.Columns) == audit.Failed {
				failed = append(failed, text(c, f, "subject"))
			}
		}
		sort.Strings(failed)
		if c.Checked != tt.checked || !reflect.DeepEqual(c.Outcomes, tt.classes) || !reflect.DeepEqual(failed, tt.failed) {
			t.Errorf("%s: checked %d, outcomes %v, failed %v\nwant %d, %v, %v", tt.control, c.Checked, c.Outcomes, failed, tt.checked, tt.classes, tt.failed)
		}
	}
}

func text(c audit.Control, f audit.Finding, col string) string {
	for i, name := range c.Columns {
		if name != col {
			continue
		}
		switch v := f.Values[i].(type) {
		case nil:
			return ""
		case string:
			return v
		case time.Time:
			return v.UTC().Format(time.RFC3339)
		default:
			b, _ := jsonText(v)
			return b
		}
	}
	return "<no column " + col + ">"
}

func finding(t *testing.T, c audit.Control, subject string) audit.Finding {
	t.Helper()
	for _, f := range c.Findings {
		if text(c, f, "subject") == subject {
			return f
		}
	}
	t.Fatalf("%s: no row for %s", c.Name, subject)
	return audit.Finding{}
}

// TestDemoEvidence: the who, when and what of the planted findings, as
// the canonical records give them (internal/demo/README.md and the
// approvals of CHG-40070, CHG-90007 and CHG-110002).
func TestDemoEvidence(t *testing.T) {
	res := demoAudit(t, time.Time{}, time.Time{})
	for _, tt := range []struct {
		control, subject string
		want             map[string]string
	}{
		// A freeze finding keeps the request's window (09:30–14:30) and its
		// approvers: the finding is the freeze, and the rule says so.
		{"outside-window", "deploy-web-storefront-0149", map[string]string{
			"change_request": "CHG-40070",
			"started_at":     "2026-09-25T10:30:00Z",
			"planned_start":  "2026-09-25T09:30:00Z",
			"planned_end":    "2026-09-25T14:30:00Z",
			"approvals":      "nadia.rahman (peer) approved 2026-09-22T22:01:49Z; kofi.mensah (release_manager) approved 2026-09-23T15:53:51Z",
			"freeze":         "quarter-close",
			"rule":           "inside the freeze quarter-close",
			"deployment_url": "https://ci.acme.example/acme/commerce/deployments/deploy-web-storefront-0149",
		}},
		// Approved 30 minutes after the 16:11:34 start.
		{"unapproved-production-change", "deploy-auth-0011", map[string]string{
			"started_at":        "2026-05-28T16:11:34Z",
			"first_approved_at": "2026-05-28T16:41:34Z",
			"rule":              "change request approved only after the deployment started",
		}},
		// Segregation of duties: requester, approvers, deployer.
		{"self-approval", "CHG-110002", map[string]string{
			"requested_by": "bruno.kowalski",
			"approvers":    `["alice.wang","elif.brandt","femi.nguyen"]`,
			"deployers":    `["elif.brandt"]`,
			"rule":         "approved by elif.brandt, who deployed it",
		}},
		// The NO-GO: which criterion failed, what it measured, what the
		// policy asks.
		{"gate-override", "deploy-user-profile-0011", map[string]string{
			"decision":        "no-go",
			"decided_by":      "release-bot",
			"failed_criteria": "change request: CHG-100005 rejected (threshold: an approved change request with its window open)",
			"outcome":         "failed",
		}},
		// The override: 1 failed of 3 production deployments of auth in
		// the 30 days before (33.3 % against at most 25 %), who released it
		// and why; listed although it passed.
		{"gate-override", "deploy-auth-0045", map[string]string{
			"decision":        "override",
			"decided_by":      "release-manager",
			"override_reason": "accepted risk: the failing suite is a known flaky test (demo)",
			"failed_criteria": "change failure rate: change failure rate 33.3% (1 of 3) (threshold: change failure rate <= 25%)",
			"outcome":         "override",
			"rule":            "",
		}},
	} {
		c := control(t, res, tt.control)
		f := finding(t, c, tt.subject)
		for col, want := range tt.want {
			if got := text(c, f, col); got != want {
				t.Errorf("%s %s: %s = %q, want %q", tt.control, tt.subject, col, got, want)
			}
		}
	}
	// The approvals quoted above are the canonical rows of CHG-40070.
	if n := count(t, `select count(*) from approvals where change_request = 'CHG-40070' and decision = 'approved'
		and ((approver = 'nadia.rahman' and role = 'peer' and decided_at = '2026-09-22T22:01:49Z')
		  or (approver = 'kofi.mensah' and role = 'release_manager' and decided_at = '2026-09-23T15:53:51Z'))`); n != 2 {
		t.Errorf("CHG-40070 approvals in the canonical table: %d, want 2", n)
	}
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestDemoAuditorQueries runs the auditor's named queries on the demo's
// planted cases (internal/demo/README.md).
func TestDemoAuditorQueries(t *testing.T) {
	db := demoWarehouse(t)
	ctx := context.Background()
	q := func(name string, params map[string]string) (cols []string, rows []map[string]string) {
		t.Helper()
		tab, err := queries.Run(ctx, db, name, params)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tab.Rows {
			m := map[string]string{}
			for _, c := range tab.Columns {
				m[c] = text(audit.Control{Columns: tab.Columns}, audit.Finding{Values: r}, c)
			}
			rows = append(rows, m)
		}
		return tab.Columns, rows
	}

	// elif.brandt approved CHG-110002 and deployed it (deploy-reporting-0004).
	_, rows := q("approvals-by-person", map[string]string{"person": " Elif.Brandt "})
	if n := count(t, `select count(*) from approvals where approver = 'elif.brandt'`); int64(len(rows)) != n || n == 0 {
		t.Errorf("approvals-by-person elif.brandt: %d rows, canonical table %d", len(rows), n)
	}
	var sod []string
	for _, r := range rows {
		if r["deployed_it"] == "true" {
			sod = append(sod, r["change_request"]+" "+r["role"]+" "+r["decision"])
		}
	}
	if len(sod) != 1 || !strings.HasPrefix(sod[0], "CHG-110002 ") {
		t.Errorf("approved and deployed: %v, want CHG-110002 only", sod)
	}

	// The two planted deployments without a change request, and nothing else.
	_, rows = q("changes-without-ticket", nil)
	deps := map[string]bool{}
	for _, r := range rows {
		deps[r["deployment_id"]+" "+r["why"]] = true
	}
	if !reflect.DeepEqual(deps, map[string]bool{"deploy-ledger-0012 no change request": true, "deploy-api-gateway-0023 no change request": true}) {
		t.Errorf("changes-without-ticket deployments %v", deps)
	}

	// 19 emergency requests; CHG-40015 reviewed 8 days 3 hours after
	// implementation (8.1 days, due on day 5), CHG-10010 never.
	_, rows = q("emergency-changes-and-reviews", nil)
	got := map[string]string{}
	for _, r := range rows {
		got[r["change_request"]] = r["review_days"] + " due " + r["review_due"]
	}
	if len(rows) != 19 || got["CHG-40015"] != "8.1 due 2026-05-30T00:00:00Z" || got["CHG-10010"] != " due 2026-05-13T00:00:00Z" {
		t.Errorf("emergency-changes-and-reviews: %d rows, CHG-40015 %q, CHG-10010 %q", len(rows), got["CHG-40015"], got["CHG-10010"])
	}

	// hana.sato, a developer, deployed ledger to production once
	// (deploy-ledger-0022): not an allowed deployer.
	_, rows = q("access-to-deploy", map[string]string{"person": "hana.sato", "service": "ledger"})
	var prod []string
	for _, r := range rows {
		if r["is_production"] == "true" {
			prod = append(prod, r["deployer"]+" "+r["environment"]+" "+r["deployments"]+" allowed="+r["allowed"])
		}
	}
	if len(prod) != 1 || prod[0] != "hana.sato production 1 allowed=false" {
		t.Errorf("access-to-deploy hana.sato on ledger: %v", prod)
	}
}
