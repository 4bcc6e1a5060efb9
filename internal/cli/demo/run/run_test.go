package run

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/gate"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// TestDemoEndToEnd runs `shiplog demo` as a user would and checks what it
// promises: every embedded record in the warehouse, the marts built, one
// headline row per team, every report written, and the governance findings
// the demo organisation was built to contain (the table in
// internal/demo/README.md, written when the data was planted).
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end demo: skipped with -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	ios, _, stdout, stderr := iostreams.Test()
	now := func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	p, err := Run(ctx, &Options{IO: ios, Now: now, Dir: dir})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}

	// The headline table: a header and one row per team of the README.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var teams []string
	for _, l := range lines[3:] {
		teams = append(teams, strings.Fields(l)[0])
	}
	if got := strings.Join(teams, ","); got != "data,identity,payments,platform,storefront" {
		t.Errorf("headline teams %s\n%s", got, stdout)
	}
	for _, want := range []string{p.Warehouse, p.Index, "Try next:"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q", want)
		}
	}

	db, err := warehouse.Open(ctx, p.Warehouse, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Every record of the embedded files is in its canonical table.
	for _, k := range canonical.Kinds {
		want := embeddedLines(t, k.Name)
		var got int
		if err := db.QueryRow(`SELECT count(*) FROM ` + k.Table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %d rows, want the %d lines of the embedded file", k.Table, got, want)
		}
	}
	var marts int
	// a mart is a table or a view (fct_changes is a view of fct_change_rows)
	db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name IN ('fct_deployments','fct_changes','fct_failures','fct_incidents')`).Scan(&marts)
	if marts != 4 {
		t.Errorf("%d of the 4 core marts exist", marts)
	}

	// Reports: the index and each page it links.
	index, err := os.ReadFile(p.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"leadership.html", "retro.html", "audit.html", "leadership-payments.html"} {
		if !bytes.Contains(index, []byte(page)) {
			t.Errorf("index does not link %s", page)
		}
		if _, err := os.Stat(filepath.Join(p.Reports, page)); err != nil {
			t.Error(err)
		}
	}

	// Governance: each control finds exactly the records planted for it.
	res, err := audit.Run(ctx, db, Config(), audit.Options{Now: now()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, c := range res.Controls {
		tab := res.FindingsTable(c)
		for _, r := range tab.Rows {
			// plan-vs-actual names what its subject is: "deployment:…".
			id := r[0].(string)
			for _, prefix := range []string{"change_request:", "deployment:"} {
				id = strings.TrimPrefix(id, prefix)
			}
			got[c.Name] = append(got[c.Name], id)
		}
		sort.Strings(got[c.Name])
	}
	want := plantedViolations(t)
	for control, ids := range want {
		if strings.Join(got[control], " ") != strings.Join(ids, " ") {
			t.Errorf("%s: found %v, planted %v", control, got[control], ids)
		}
	}
	// The gate decisions the demo records leave one release deployed after
	// a NO-GO without an override reason, and one override.
	var noGoFindings, overrides int
	db.QueryRow(`SELECT count(*) FROM gate_decisions WHERE decision = 'override' AND override_reason IS NOT NULL`).Scan(&overrides)
	noGoFindings = len(got["gate-override"])
	if overrides != 1 || noGoFindings < 1 {
		t.Errorf("gate: %d overrides, %d gate-override findings; want 1 and at least 1", overrides, noGoFindings)
	}

	gateAgreesWithAudit(t, db, want)

	// A second run rebuilds the same warehouse: same headline.
	ios2, _, stdout2, _ := iostreams.Test()
	if _, err := Run(ctx, &Options{IO: ios2, Now: now, Dir: t.TempDir(), NoReports: true}); err != nil {
		t.Fatal(err)
	}
	if stdout2.String() != stdout.String() {
		t.Errorf("a second demo run printed different metrics:\n%s\nvs\n%s", stdout2, stdout)
	}
}

func embeddedLines(t *testing.T, kind string) int {
	t.Helper()
	f, err := demo.Embedded().Open(demo.FileName(kind))
	if err != nil {
		if os.IsNotExist(err) || strings.Contains(err.Error(), fs.ErrNotExist.Error()) {
			return 0
		}
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

// plantedViolations reads the table of planted violations from the demo
// generator's README: | `control` | `record` | what |.
// gateAgreesWithAudit asks the release gate, at the instant each
// production deployment started and under its change request, whether the
// release may go, and holds the answer to the audit's: the gate's change
// request criterion passes exactly when the unapproved-production-change
// control found the deployment approved, the request names its service,
// existed by then and its planned window held that instant (the gate's
// own conditions, read here from fct_change_requests). Examined: the
// planted deployments of every control, each deployment the models found
// not approved, and every 20th of the others. The two planted deployments
// with no change request are asked about without one: no request of
// their service was approved with its window open when they started, so
// the gate refuses them as the audit does.
func gateAgreesWithAudit(t *testing.T, db *warehouse.DB, planted map[string][]string) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, control := range []string{"unapproved-production-change", "outside-window", "plan-vs-actual", "deployer-not-allowed", "rollback-authority"} {
		ids = append(ids, planted[control]...)
	}
	rows, err := db.QueryContext(ctx, `
		SELECT d.deployment_id, d.service, coalesce(d.version, ''), d.effective_started_at, d.is_approved, d.approval_state,
		       list_contains(r.services, d.service), r.created_at <= d.effective_started_at,
		       coalesce(r.planned_start <= d.effective_started_at, true) AND coalesce(r.planned_end >= d.effective_started_at, true)
		FROM (SELECT *, row_number() OVER (ORDER BY finished_at, deployment_id) AS n FROM fct_deployments
		      WHERE is_production AND status IN ('success', 'failure')) d
		JOIN fct_change_requests r ON r.change_request = d.change_request
		WHERE list_contains(?::VARCHAR[], d.deployment_id) OR NOT d.is_approved OR d.n % 20 = 0
		ORDER BY d.n`, ids)
	if err != nil {
		t.Fatal(err)
	}
	type dep struct {
		id, service, version, state     string
		start                           time.Time
		approved, names, raised, inTime bool
	}
	var deps []dep
	for rows.Next() {
		var d dep
		if err := rows.Scan(&d.id, &d.service, &d.version, &d.start, &d.approved, &d.state, &d.names, &d.raised, &d.inTime); err != nil {
			t.Fatal(err)
		}
		deps = append(deps, d)
	}
	rows.Close()
	cfg := Config()
	var refused []string
	for _, d := range deps {
		var request string
		if err := db.QueryRowContext(ctx, `SELECT change_request FROM fct_deployments WHERE deployment_id = ?`, d.id).Scan(&request); err != nil {
			t.Fatal(err)
		}
		dec, err := gate.Evaluate(ctx, db, cfg, gate.Options{Service: d.service, Version: d.version, ChangeRequest: request, Now: d.start})
		if err != nil {
			t.Fatal(err)
		}
		var c gate.Criterion
		for _, x := range dec.Criteria {
			if x.Name == "change request" {
				c = x
			}
		}
		if want := d.approved && d.names && d.raised && d.inTime; c.Passed != want {
			t.Errorf("%s (%s, audit says %s): gate change request passed=%v, want %v: %s", d.id, request, d.state, c.Passed, want, c.Evidence)
		}
		if !d.approved {
			refused = append(refused, d.id)
		}
	}
	for _, id := range []string{"deploy-ledger-0012", "deploy-api-gateway-0023"} {
		var service, version string
		var start time.Time
		if err := db.QueryRowContext(ctx, `SELECT service, version, effective_started_at FROM fct_deployments
			WHERE deployment_id = ? AND approval_state = 'no_change_request'`, id).Scan(&service, &version, &start); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		dec, err := gate.Evaluate(ctx, db, cfg, gate.Options{Service: service, Version: version, Now: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range dec.Criteria {
			if c.Name == "change request" && c.Passed {
				t.Errorf("%s has no change request, yet the gate found one: %s", id, c.Evidence)
			}
		}
	}
	// The two planted deployments under a request the audit refuses, and
	// only those, are refused by the gate for the request itself.
	sort.Strings(refused)
	if got := strings.Join(refused, " "); got != "deploy-auth-0011 deploy-user-profile-0011" {
		t.Errorf("not approved under their request: %s", got)
	}
	if len(deps) < 50 {
		t.Errorf("only %d deployments compared", len(deps))
	}
}

func plantedViolations(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../../../demo/README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("^\\| `([a-z-]+)` \\| `([^`]+)` \\|")
	out := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			out[m[1]] = append(out[m[1]], m[2])
		}
	}
	if len(out) < 8 {
		t.Fatalf("read only %d controls from the README", len(out))
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}
