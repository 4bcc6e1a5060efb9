package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(*testing.T, *Options)
	}{
		{args: []string{"--from", "2026-03-01", "--to", "2026-04-01T00:00:00+02:00", "--control", "self-approval", "--control", "gate-override", "--fail-on-findings"},
			check: func(t *testing.T, o *Options) {
				if !o.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !o.To.Equal(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)) {
					t.Errorf("period = %v .. %v", o.From, o.To)
				}
				if strings.Join(o.Controls, ",") != "self-approval,gate-override" || !o.FailOnFindings || o.Format != "table" {
					t.Errorf("opts = %+v", o)
				}
			}},
		{args: []string{"--from", "March"}, wantErr: `--from: "March" is not a time`},
		{args: []string{"--from", "2026-04-01", "--to", "2026-03-01"}, wantErr: "--to must be after --from"},
		{args: []string{"--control", "slowest-changes"}, wantErr: `unknown control "slowest-changes"`},
		{args: []string{"--control", "self-aproval"}, wantErr: `unknown control "self-aproval"; did you mean "self-approval"?`},
		{args: []string{"--format", "xml"}, wantErr: "--format must be one of"},
		{args: []string{"extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdAudit(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.ErrOut)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

// Two merged changes, one without the one required approving review: the
// unreviewed-change control checks 2 and finds 1 (org/r#1).
func TestRun(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO changes (id, service, first_commit_at, merged_at, approvals, source) VALUES
		('org/r#1', 'api', '2026-03-01 09:00:00+00', '2026-03-02 10:00:00+00', 0, 'file'),
		('org/r#2', 'api', '2026-03-01 09:00:00+00', '2026-03-02 11:00:00+00', 1, 'file')`); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	run := func(format string, fail bool) (string, string, error) {
		ios, _, out, errOut := iostreams.Test()
		err := Run(ctx, &Options{
			IO: ios,
			Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
				return warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
			},
			Config:   func() (*config.Config, error) { return cfg, nil },
			Now:      func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) },
			Controls: []string{"unreviewed-change", "self-approval"}, Format: format, FailOnFindings: fail,
		})
		return out.String(), errOut.String(), err
	}

	out, _, err := run("json", false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Controls []struct {
			Name                    string
			Checked, Failed, Exempt int
			Findings                []map[string]any
		}
		Exemptions []any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Controls[0]
	if len(doc.Controls) != 2 || c.Name != "unreviewed-change" || c.Checked != 2 || c.Failed != 1 || len(c.Findings) != 1 ||
		c.Findings[0]["change_id"] != "org/r#1" || c.Findings[0]["exempt"] != false {
		t.Errorf("json:\n%s", out)
	}
	if s := doc.Controls[1]; s.Name != "self-approval" || s.Checked != 0 || s.Failed != 0 {
		t.Errorf("self-approval = %+v", s)
	}

	csvOut, errOut, err := run("csv", true)
	// One row for the finding of unreviewed-change, one empty row for
	// self-approval (no findings), evidence as a JSON object.
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	// Every row starts with the period, the time it was made (the test's
	// clock), the build and the data's fingerprint; then the control, its
	// population and version, checked 2 = 1 passed by evidence + 1 failed.
	const head = "from,to,generated_at,shiplog_version,warehouse_fingerprint,control,population,version,checked," +
		"passed_evidence,passed_pre_approved,passed_override,passed_not_required,passed_not_due,exempt,failed,findings," +
		"subject,rule,outcome,exemption_id,exemption,exemption_expires,evidence"
	if len(lines) != 3 || lines[0] != head ||
		!strings.HasPrefix(lines[1], "1970-01-01T00:00:00Z,9999-12-31T00:00:00Z,2026-04-01T00:00:00Z,") ||
		!strings.Contains(lines[1], ",unreviewed-change,changes,") ||
		!strings.Contains(lines[1], ",2,1,0,0,0,0,0,1,1,org/r#1,merged with 0 of 1 required approving reviews,failed,,,,") ||
		!strings.Contains(lines[1], `""change_id"":""org/r#1""`) ||
		!strings.Contains(lines[2], ",self-approval,change requests,") || !strings.HasSuffix(lines[2], ",0,0,0,0,0,0,0,0,0,,,,,,,") {
		t.Errorf("csv:\n%s", csvOut)
	}
	var ec *cmdutil.ExitCodeError
	if !errors.As(err, &ec) || ec.Code != 1 || !strings.Contains(errOut, "1 finding(s) not covered") {
		t.Errorf("fail-on-findings: err = %v, stderr %q", err, errOut)
	}

	// An exemption covers the finding: exit 0, and the table says why.
	cfg.Controls.Exemptions = []config.Exemption{{Control: "unreviewed-change", Subject: "org/r#1", Reason: "docs only", Expires: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}
	out, _, err = run("table", true)
	if err != nil {
		t.Fatalf("exempt finding still fails: %v", err)
	}
	// checked 2: 1 by evidence, 1 exempt (its only finding is covered), 0 failed.
	for _, want := range []string{"unreviewed-change\tchanges\t2\t1\t0\t0\t0\t0\t1\t0\t1\tpass", "unreviewed-change: 1 finding(s), 1 exempt",
		"\tEX-1 (expires 2026-05-01): docs only\n", "EX-1\tunreviewed-change\torg/r#1\tdocs only\t2026-05-01T00:00:00Z\tfalse\t1",
		"period 1970-01-01T00:00:00Z to 9999-12-31T00:00:00Z (end excluded)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// The JSON document always says which period it covers: as given, an open
// end from the deployments and change requests, or, with no data at all,
// the bounds the controls ran with. Never null.
func TestPeriodNeverNull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	run := func(tty bool, from, to time.Time) (map[string]any, string) {
		t.Helper()
		ios, _, out, errOut := iostreams.Test()
		ios.SetStderrTTY(tty)
		err := Run(ctx, &Options{
			IO: ios,
			Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
				return warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
			},
			Config: func() (*config.Config, error) { return config.Default(), nil },
			Now:    func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) },
			From:   from, To: to, Controls: []string{"unapproved-production-change"}, Format: "json",
		})
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return doc, errOut.String()
	}
	doc, _ := run(false, time.Time{}, time.Time{})
	if doc["from"] != "1970-01-01T00:00:00Z" || doc["to"] != "9999-12-31T00:00:00Z" || doc["period"].(map[string]any)["state"] != "empty" {
		t.Errorf("empty warehouse: from %v to %v period %v", doc["from"], doc["to"], doc["period"])
	}

	db, err = warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`insert into change_requests (id, services, risk, requested_by, created_at, status, source) values ('CR-1', ['api'], 'normal', 'ann', '2026-03-01 09:00:00+00', 'approved', 'f')`,
		`insert into deployments (id, service, environment, status, finished_at, change_request, source) values ('d1', 'api', 'production', 'success', '2026-03-05 10:00:00+00', 'CR-1', 'f')`,
		`insert into ingest_runs (source, started_at, finished_at, status) values ('f', '2026-03-06 00:00:00+00', '2026-03-06 00:01:00+00', 'success')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// No dates: the period `report audit` takes, the last month with
	// deployment data — March, partial (the only deployment is on the 5th,
	// and the data is known up to the ingest on the 6th).
	doc, errOut := run(true, time.Time{}, time.Time{})
	if doc["from"] != "2026-03-01T00:00:00Z" || doc["to"] != "2026-04-01T00:00:00Z" || doc["period"].(map[string]any)["default"] != true {
		t.Errorf("default: from %v to %v, period %v", doc["from"], doc["to"], doc["period"])
	}
	cov := doc["coverage"].(map[string]any)
	if cov["generated_at"] != "2026-04-01T00:00:00Z" || cov["last_ingest"] != "2026-03-06T00:01:00Z" || cov["stale"] != true {
		t.Errorf("coverage: %v", cov)
	}
	// wrapped under their text at the terminal's 80 columns
	want := "period: 2026-03-01 to 2026-03-31, partial: deployments and change requests known\n" +
		"        up to 2026-03-06 (the last month with deployment data; --from and --to\n" +
		"        choose)\n" +
		"data: deployments and change requests 2026-03-01 to 2026-03-05; last ingest\n" +
		"      2026-03-06 00:01 UTC (f); STALE: 26 days old, over 7 days\n"
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant\n%s", errOut, want)
	}
	// only --from: the end is the data's
	doc, _ = run(false, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), time.Time{})
	if doc["from"] != "2026-03-04T00:00:00Z" || doc["to"] != "2026-03-06T00:00:00Z" {
		t.Errorf("--from only: from %v to %v", doc["from"], doc["to"])
	}
}

// The JSON and CSV name what they were computed from: the period, the
// time they were made, the shiplog build and the warehouse's fingerprint
// (rows and event range per canonical table, hashed as audit.Fingerprint
// documents), and give totals per population, never added across.
func TestPeriodMetadata(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO change_requests (id, services, title, risk, requested_by, created_at, status, source) VALUES
			('CR-1', ['api'], 'x', 'standard', 'ana', '2026-03-01 08:00:00+00', 'implemented', 'file');
		INSERT INTO deployments (id, service, environment, finished_at, status, change_request, source) VALUES
			('D-1', 'api', 'production', '2026-03-03 10:00:00+00', 'success', 'CR-1', 'file'),
			('D-2', 'api', 'production', '2026-03-04 10:00:00+00', 'failure', 'CR-1', 'file');
		INSERT INTO changes (id, service, first_commit_at, merged_at, approvals, source) VALUES
			('org/r#1', 'api', '2026-03-01 09:00:00+00', '2026-03-02 10:00:00+00', 1, 'file'),
			('org/r#2', 'api', '2026-03-01 09:00:00+00', '2026-03-02 11:00:00+00', 1, 'file')`); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	run := func(format string) string {
		ios, _, out, _ := iostreams.Test()
		if err := Run(ctx, &Options{
			IO: ios,
			Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
				return warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
			},
			Config: func() (*config.Config, error) { return cfg, nil },
			Now:    func() time.Time { return now },
			From:   time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
			Controls: []string{"unapproved-production-change", "deployer-not-allowed", "self-approval", "unreviewed-change"},
			Format:   format,
		}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	// By hand: one line per table with rows, in name order, the event
	// time of each kind (created_at, first_commit_at, finished_at).
	lines := "change_requests\t1\t2026-03-01T08:00:00Z\t2026-03-01T08:00:00Z\n" +
		"changes\t2\t2026-03-01T09:00:00Z\t2026-03-01T09:00:00Z\n" +
		"deployments\t2\t2026-03-03T10:00:00Z\t2026-03-04T10:00:00Z\n"
	sum := sha256.Sum256([]byte(lines))
	fingerprint := hex.EncodeToString(sum[:])[:16]

	var doc struct {
		GeneratedAt    string `json:"generated_at"`
		ShiplogVersion string `json:"shiplog_version"`
		Warehouse      struct {
			Fingerprint string
			Tables      []struct {
				Table       string
				Rows        int64
				First, Last string
			}
		}
		Populations []struct {
			Name             string
			Subjects, Failed int64
			Controls         []string
			Note             string
		}
		Controls []struct {
			Name     string
			Outcomes map[string]int64
		}
	}
	out := run("json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(out), &raw)
	if raw["from"] != "2026-03-01T00:00:00Z" || raw["to"] != "2026-04-01T00:00:00Z" || doc.GeneratedAt != "2026-04-01T12:00:00Z" ||
		doc.ShiplogVersion != version.Build().Version || doc.ShiplogVersion == "" {
		t.Errorf("from %v to %v generated %q version %q", raw["from"], raw["to"], doc.GeneratedAt, doc.ShiplogVersion)
	}
	if doc.Warehouse.Fingerprint != fingerprint || len(doc.Warehouse.Tables) != 3 || doc.Warehouse.Tables[2].Table != "deployments" ||
		doc.Warehouse.Tables[2].Rows != 2 || doc.Warehouse.Tables[2].First != "2026-03-03T10:00:00Z" || doc.Warehouse.Tables[2].Last != "2026-03-04T10:00:00Z" {
		t.Errorf("warehouse %+v, want fingerprint %s", doc.Warehouse, fingerprint)
	}
	// Two production deployments (one failed attempt, counted: it changed
	// production), one change request, two changes: three populations.
	var pops []string
	for _, p := range doc.Populations {
		pops = append(pops, fmt.Sprintf("%s=%d/%d %s", p.Name, p.Subjects, p.Failed, strings.Join(p.Controls, "+")))
	}
	if got := strings.Join(pops, "; "); got != "production deployments=2/0 unapproved-production-change+deployer-not-allowed; change requests=0/0 self-approval; changes=2/0 unreviewed-change" {
		t.Errorf("populations %s", got)
	}
	if !strings.Contains(doc.Populations[0].Note, "successful ones only") {
		t.Errorf("production deployments note %q", doc.Populations[0].Note)
	}
	// Both deployments ran under a standard request: pre-approved, no
	// decision recorded.
	if o := doc.Controls[0].Outcomes; o["pre_approved"] != 2 || o["evidence"] != 0 || o["failed"] != 0 {
		t.Errorf("unapproved-production-change outcomes %v", o)
	}

	csv := strings.Split(run("csv"), "\n")
	if !strings.HasPrefix(csv[1], "2026-03-01T00:00:00Z,2026-04-01T00:00:00Z,2026-04-01T12:00:00Z,"+version.Build().Version+","+fingerprint+",unapproved-production-change,production deployments,") {
		t.Errorf("csv row %s", csv[1])
	}
}
