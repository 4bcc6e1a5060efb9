package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// fixtureNow is the audit clock: after March, before CR-E5's review is due.
var fixtureNow = time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)

// fixtureConfig is the configuration testdata/governance/README.md assumes.
func fixtureConfig() *config.Config {
	cfg := config.Default()
	cfg.Controls.RequiredApprovals = 2
	cfg.Controls.EmergencyReviewDays = 5
	cfg.Controls.PreApprovedStandard = true
	cfg.Calendar.Freezes = []config.Freeze{
		{Name: "quarter-end", Start: "2026-03-27 00:00", End: "2026-03-30 00:00", TimeZone: "Europe/Berlin"},
		{Name: "batch-migration", Start: "2026-03-03 00:00", End: "2026-03-04 00:00", Services: []string{"batch"}},
	}
	cfg.Controls.Exemptions = []config.Exemption{
		{Control: "unapproved-production-change", Subject: "D-11", Reason: "vendor outage fix, CAB informed", Expires: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)},
		{Control: "self-approval", Subject: "CR-3", Reason: "sole maintainer", Expires: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
	}
	return cfg
}

// fixtureDB loads the governance fixture and the gate decisions of its
// README into a fresh in-memory warehouse and builds the marts the controls
// read with cfg (fixtureConfig when nil).
func fixtureDB(t *testing.T, cfgs ...*config.Config) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, "../testdata/governance/canonical.jsonl")
	cfg := fixtureConfig()
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	if err := transform.Run(context.Background(), db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO gate_decisions (service, version, decision, criteria, decided_by, decided_at, override_reason) VALUES
		('api', 'v1.6', 'no-go', '[]', 'alice', '2026-03-16 09:00:00+00', NULL),
		('api', 'v1.7', 'no-go', '[]', 'alice', '2026-03-17 09:00:00+00', NULL),
		('api', 'v1.7', 'override', '[]', 'rita', '2026-03-17 09:30:00+00', 'hotfix for outage'),
		('api', 'v1.8', 'go', '[]', 'alice', '2026-03-18 09:00:00+00', NULL),
		('api', 'v1.9', 'no-go', '[]', 'alice', '2026-03-19 10:30:00+00', NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

type want struct {
	checked, failed, exempt int64
	findings                []string // "subject | rule", in the control's order
}

// The expected results are worked out by hand in testdata/governance/README.md.
var expected = map[string]want{
	"unapproved-production-change": {28, 4, 1, []string{
		"D-05 | change request approved only after the deployment started",
		"D-07 | change request is rejected",
		"D-11 | no change request",
		"D-32 | change request CR-404 not found",
		"D-33 | no approval recorded for the change request",
	}},
	"self-approval": {13, 2, 0, []string{
		"CR-3 | approved only by its requester",
		"CR-4 | approved by dana, who deployed it",
	}},
	"emergency-without-review": {4, 2, 0, []string{
		"CR-E1 | no post-implementation review within 5 days",
		"CR-E3 | post-implementation review 1 day(s) late",
	}},
	"unreviewed-change": {4, 2, 0, []string{
		"org/api#1 | merged with 1 of 2 required approving reviews",
		"org/api#3 | merged with 0 of 2 required approving reviews",
	}},
	"outside-window": {28, 4, 0, []string{
		"D-23 | inside the freeze batch-migration",
		"D-27 | inside the freeze batch-migration",
		"D-17 | outside the planned window of CR-11",
		"D-20 | inside the freeze quarter-end",
	}},
	"plan-vs-actual": {43, 2, 0, []string{
		"change_request:CR-8 | implemented change request has no production deployment",
		"deployment:D-15 | deployed service api is not named by CR-9",
	}},
	"rollback-authority": {4, 2, 0, []string{
		"D-27 | service batch names no rollback authority",
		"D-25 | dana is outside the rollback authority",
	}},
	"deployer-not-allowed": {20, 1, 0, []string{
		"D-12 | mallory is not an allowed deployer",
	}},
	"gate-override": {3, 1, 0, []string{
		"D-11 | deployed after a NO-GO gate decision without an override reason",
	}},
}

func march() Options {
	return Options{
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		Now:  fixtureNow,
	}
}

func TestControlsFindExactlyThePlantedViolations(t *testing.T) {
	db := fixtureDB(t)
	res, err := Run(context.Background(), db, fixtureConfig(), march())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Controls) != len(config.ControlNames) {
		t.Fatalf("%d controls ran, want %d", len(res.Controls), len(config.ControlNames))
	}
	for i, c := range res.Controls {
		if c.Name != config.ControlNames[i] {
			t.Errorf("control %d is %s, want DESIGN.md's order (%s)", i, c.Name, config.ControlNames[i])
		}
		w, ok := expected[c.Name]
		if !ok {
			t.Errorf("unexpected control %s", c.Name)
			continue
		}
		if c.Checked != w.checked || c.Failed != w.failed || c.Exempt != w.exempt {
			t.Errorf("%s: checked/failed/exempt = %d/%d/%d, want %d/%d/%d", c.Name, c.Checked, c.Failed, c.Exempt, w.checked, w.failed, w.exempt)
		}
		var got, listed []string
		for _, f := range c.Findings {
			if f.Passed {
				listed = append(listed, textOf(f.value(c.Columns, "subject"))+" | "+f.Outcome(c.Columns)+" | "+textOf(f.value(c.Columns, "override_reason")))
				continue
			}
			got = append(got, textOf(f.value(c.Columns, "subject"))+" | "+textOf(f.value(c.Columns, "rule")))
		}
		// Passes listed for their evidence: only api v1.7 (D-12), released
		// over a NO-GO by rita's override.
		wantListed := ""
		if c.Name == "gate-override" {
			wantListed = "D-12 | override | hotfix for outage"
		}
		if strings.Join(listed, "\n") != wantListed {
			t.Errorf("%s listed passes: %q, want %q", c.Name, strings.Join(listed, "\n"), wantListed)
		}
		if strings.Join(got, "\n") != strings.Join(w.findings, "\n") {
			t.Errorf("%s findings:\n%s\nwant:\n%s", c.Name, strings.Join(got, "\n"), strings.Join(w.findings, "\n"))
		}
	}
	if res.Failed() != 20 {
		t.Errorf("Failed() = %d, want 20", res.Failed())
	}
	// The D-11 exemption covered one finding; the CR-3 one had expired.
	if e := res.Exemptions[0]; e.Expired || e.Matched != 1 {
		t.Errorf("exemption D-11 = %+v", e)
	}
	if e := res.Exemptions[1]; !e.Expired || e.Matched != 0 {
		t.Errorf("exemption CR-3 = %+v", e)
	}
}

func TestEmergencyReviewBecomesDue(t *testing.T) {
	db := fixtureDB(t)
	opts := march()
	opts.Controls = []string{"emergency-without-review"}
	// On 5 April, CR-E5 (implemented 30 March, review due by the end of 4 April) is overdue too.
	opts.Now = time.Date(2026, 4, 5, 0, 0, 1, 0, time.UTC)
	res, err := Run(context.Background(), db, fixtureConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Controls) != 1 || res.Controls[0].Failed != 3 {
		t.Fatalf("result = %+v", res.Controls)
	}
}

func TestFreezeTimeZoneMatters(t *testing.T) {
	// Read as UTC, the quarter-end freeze would catch D-21 (29 March 22:00
	// UTC, which is 30 March 00:00 in Berlin) and miss D-20.
	cfg := fixtureConfig()
	cfg.Calendar.Freezes[0].TimeZone = "UTC"
	db := fixtureDB(t, cfg)
	opts := march()
	opts.Controls = []string{"outside-window"}
	res, err := Run(context.Background(), db, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, f := range res.Controls[0].Findings {
		subjects = append(subjects, textOf(f.value(res.Controls[0].Columns, "subject")))
	}
	if got := strings.Join(subjects, ","); got != "D-23,D-27,D-17,D-21" {
		t.Errorf("findings = %s", got)
	}
}

func TestUnknownControl(t *testing.T) {
	_, err := Run(context.Background(), fixtureDB(t), fixtureConfig(), Options{Controls: []string{"slowest-changes"}})
	if err == nil || !strings.Contains(err.Error(), `no control named "slowest-changes"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestNeedsTheMarts(t *testing.T) {
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fixture.Load(t, db, "../testdata/governance/canonical.jsonl")
	_, err = Run(context.Background(), db, fixtureConfig(), march())
	if !errors.Is(err, marts.ErrMissing) {
		t.Errorf("err = %v, want marts.ErrMissing", err)
	}
}

func textOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// controls.allowed_deployers adds to the service records: "AP*" (service
// keys are lower-cased, the glob too) lets mallory deploy api, so D-12
// passes; team "front" gives web, which had no list and was not examined,
// the list [wes]: its 8 March production deployments are examined, and
// carol (D-03), frank (D-05) and hank (D-06) are not on it. 20 + 8 = 28.
func TestConfiguredAllowedDeployers(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Controls.AllowedDeployers = []config.AllowedDeployers{
		{Service: "AP*", Deployers: []string{" Mallory "}},
		{Team: "front", Deployers: []string{"wes"}},
	}
	db := fixtureDB(t, cfg)
	res, err := Run(context.Background(), db, cfg, Options{From: march().From, To: march().To, Controls: []string{"deployer-not-allowed"}, Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Controls[0]
	var got []string
	for _, f := range c.Findings {
		got = append(got, textOf(f.value(c.Columns, "subject"))+" | "+textOf(f.value(c.Columns, "rule")))
	}
	want := []string{"D-03 | carol is not an allowed deployer", "D-05 | frank is not an allowed deployer", "D-06 | hank is not an allowed deployer"}
	if c.Checked != 28 || c.Outcomes[Evidence] != 25 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("checked %d, evidence %d, findings:\n%s\nwant 28, 25:\n%s", c.Checked, c.Outcomes[Evidence], strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
