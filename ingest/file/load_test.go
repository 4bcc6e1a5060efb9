package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

var goodFiles = []string{"testdata/all.jsonl", "testdata/deployments.csv"}

// TestLoadEveryKind loads one record of every kind with every field (JSON
// Lines) and two deployments from CSV, and checks each stored value.
//
// Worked by hand from the fixtures:
//   - d-1 finished_at 2026-03-01T10:00:00+02:00 → 08:00:00Z; started_at
//     09:45:30+02:00 → 07:45:30Z; rollback_of is JSON null → NULL; the
//     unknown "pipeline" object goes to extra.
//   - d-2 (CSV) finished_at 10:00+02:00 → 08:00Z; started_at
//     "2026-03-01 07:50:00Z" (space for T) → 07:50Z; changes
//     "acme/checkout#14; acme/checkout#15" split on ';' and trimmed;
//     is_rollback "true", is_hotfix "false"; the unknown column region →
//     extra.
//   - d-3 (CSV) finished_at 2026-03-02T00:30:00-01:00 → 01:30Z; a quoted
//     service with a comma; changes as a JSON array; is_rollback "no",
//     is_hotfix "1"; empty cells → NULL, and an empty unknown cell gives
//     no extra.
//   - change first_commit_at 2026-02-27T16:00:00-05:00 → 21:00Z; merged_at
//     keeps its milliseconds.
//   - commit 12:59+01:00 → 11:59Z and 13:00+01:00 → 12:00Z.
//   - incident opened_at 11:00+05:30 → 05:30Z.
//   - adoption day is a DATE (scanned as midnight UTC).
func TestLoadEveryKind(t *testing.T) {
	db := openDB(t)
	res, err := Load(context.Background(), db, goodFiles, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"teams": {"id=payments | name=Payments | department=Commerce | extra={\"slack\":\"#payments\"} | source=file"},
		"services": {"id=checkout | name=Checkout | team=payments | tier=1 | repo=acme/checkout | paths=[\"services/checkout/**\"] | " +
			"depends_on=[\"ledger\",\"auth\"] | release_managers=[\"ana\"] | rollback_authority=[\"sre\",\"ana\"] | allowed_deployers=[\"ci-bot\"] | extra=NULL | source=file"},
		"deployments": {
			"id=d-1 | service=checkout | environment=production | finished_at=2026-03-01T08:00:00Z | started_at=2026-03-01T07:45:30Z | status=success | " +
				"version=1.4.0 | commit_sha=c0ffee | previous_commit_sha=beef00 | changes=[\"acme/checkout#12\",\"acme/checkout#13\"] | triggered_by=ci-bot | " +
				"is_rollback=false | rollback_of=NULL | is_hotfix=true | hotfix_of=INC-7 | change_request=CR-1 | url=https://ci.example/d/1 | " +
				"extra={\"pipeline\":{\"id\":99,\"stage\":\"prod\"}} | source=file",
			"id=d-2 | service=checkout | environment=production | finished_at=2026-03-01T08:00:00Z | started_at=2026-03-01T07:50:00Z | status=failure | " +
				"version=1.4.1 | commit_sha=abc | previous_commit_sha=c0ffee | changes=[\"acme/checkout#14\",\"acme/checkout#15\"] | triggered_by=ana | " +
				"is_rollback=true | rollback_of=d-1 | is_hotfix=false | hotfix_of=NULL | change_request=CR-2 | url=https://ci.example/d/2 | " +
				"extra={\"region\":\"eu-west\"} | source=file",
			"id=d-3 | service=ledger, core | environment=staging | finished_at=2026-03-02T01:30:00Z | started_at=NULL | status=cancelled | " +
				"version=NULL | commit_sha=NULL | previous_commit_sha=NULL | changes=[\"acme/ledger#1\"] | triggered_by=NULL | " +
				"is_rollback=false | rollback_of=NULL | is_hotfix=true | hotfix_of=NULL | change_request=NULL | url=NULL | extra=NULL | source=file",
		},
		"changes": {"id=acme/checkout#12 | service=checkout | repo=acme/checkout | title=Retry card auth | author=bo | commit_shas=[\"c0ffee\",\"abc123\"] | " +
			"merge_commit_sha=c0ffee | first_commit_at=2026-02-27T21:00:00Z | opened_at=2026-02-28T09:00:00Z | first_review_at=2026-02-28T11:30:00Z | " +
			"approved_at=2026-02-28T12:00:00Z | merged_at=2026-02-28T13:15:00.25Z | reviewers=[\"ana\"] | approvals=1 | is_revert=false | " +
			"labels=[\"feature\",\"payments\"] | extra=NULL | source=file"},
		"commits": {"sha=c0ffee | repo=acme/checkout | parents=[\"abc123\"] | authored_at=2026-02-28T11:59:00Z | committed_at=2026-02-28T12:00:00Z | " +
			"author=bo | extra=NULL | source=file"},
		"incidents": {"id=INC-7 | service=checkout | severity=sev2 | title=Card auth errors | opened_at=2026-03-01T05:30:00Z | " +
			"acknowledged_at=2026-03-01T05:40:00Z | resolved_at=2026-03-01T07:10:00Z | caused_by_deployment=d-0 | root_cause_sha=abc123 | " +
			"is_false_positive=false | postmortem_url=https://wiki.example/pm/7 | customer_impact=3% of payments failed | extra=NULL | source=file"},
		"change_requests": {"id=CR-1 | services=[\"checkout\"] | title=Release 1.4.0 | risk=normal | requested_by=bo | created_at=2026-02-27T08:00:00Z | " +
			"planned_start=2026-03-01T07:00:00Z | planned_end=2026-03-01T09:00:00Z | status=implemented | implemented_at=2026-03-01T08:00:00Z | " +
			"reviewed_after_at=2026-03-02T08:00:00Z | extra=NULL | source=file"},
		"approvals": {"change_request=CR-1 | approver=ana | role=release_manager | decision=approved | decided_at=2026-02-28T18:00:00Z | extra=NULL | source=file"},
		"support_tickets": {"id=T-100 | service=checkout | created_at=2026-03-01T12:00:00Z | resolved_at=2026-03-02T12:00:00Z | priority=high | " +
			"category=payments | version=1.4.0 | incident=INC-7 | extra=NULL | source=file"},
		"test_runs": {"id=tr-1 | service=checkout | commit_sha=c0ffee | version=1.4.0 | framework=junit | suite=integration | " +
			"started_at=2026-02-28T13:30:00Z | tests=120 | passed=118 | failed=1 | skipped=1 | duration_s=93.5 | required=true | extra=NULL | source=file"},
		"adoption": {"service=checkout | feature=one-click | day=2026-03-02T00:00:00Z | active_users=1500 | eligible_users=10000 | version=1.4.0 | " +
			"extra=NULL | source=file"},
		"release_plans": {"id=rp-1 | service=checkout | version=1.5.0 | planned_at=2026-03-10T09:00:00Z | window_start=2026-03-10T08:00:00Z | " +
			"window_end=2026-03-10T12:00:00Z | environment=production | extra=NULL | source=file"},
	}
	for _, k := range canonical.Kinds {
		got := tableRows(t, db, k.Table)
		if strings.Join(got, "\n") != strings.Join(want[k.Table], "\n") {
			t.Errorf("%s:\n got  %s\n want %s", k.Table, strings.Join(got, "\n      "), strings.Join(want[k.Table], "\n      "))
		}
	}
	// 12 JSON records (the blank line is not one) and 2 CSV rows.
	if res.Read != 14 || res.Written != 14 || res.Rejected != 0 || res.Rows["deployment"] != 3 || res.Rows["team"] != 1 {
		t.Errorf("result = %+v", res)
	}
	runs := dump(t, db, "SELECT source, target, rows_read, rows_written, rows_rejected, status, error FROM ingest_runs")
	wantRun := "source=file | target=testdata/all.jsonl testdata/deployments.csv | rows_read=14 | rows_written=14 | rows_rejected=0 | status=success | error=NULL"
	if len(runs) != 1 || runs[0] != wantRun {
		t.Errorf("ingest_runs = %q, want %q", runs, wantRun)
	}
}

// snapshot copies every canonical table (and rejects) so that a later state
// can be compared with it.
func snapshot(t *testing.T, db *warehouse.DB, name string) {
	t.Helper()
	for _, table := range append(canonicalTables(), "rejects") {
		if _, err := db.Exec("CREATE OR REPLACE TABLE " + name + "_" + table + " AS SELECT * FROM " + table); err != nil {
			t.Fatal(err)
		}
	}
}

func canonicalTables() []string {
	var out []string
	for _, k := range canonical.Kinds {
		out = append(out, k.Table)
	}
	return out
}

// sameAsSnapshot checks every table against the snapshot with EXCEPT ALL
// both ways and by count.
func sameAsSnapshot(t *testing.T, db *warehouse.DB, name string) {
	t.Helper()
	for _, table := range append(canonicalTables(), "rejects") {
		snap := name + "_" + table
		var onlyNow, onlyBefore, now, before int
		err := db.QueryRow(`SELECT (SELECT count(*) FROM (SELECT * FROM `+table+` EXCEPT ALL SELECT * FROM `+snap+`)),
			(SELECT count(*) FROM (SELECT * FROM `+snap+` EXCEPT ALL SELECT * FROM `+table+`)),
			(SELECT count(*) FROM `+table+`), (SELECT count(*) FROM `+snap+`)`).Scan(&onlyNow, &onlyBefore, &now, &before)
		if err != nil {
			t.Fatal(err)
		}
		if onlyNow != 0 || onlyBefore != 0 || now != before {
			t.Errorf("%s changed: %d rows only now, %d only before, %d rows now, %d before", table, onlyNow, onlyBefore, now, before)
		}
	}
}

func TestLoadTwiceIsIdempotent(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if _, err := Load(ctx, db, goodFiles, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	snapshot(t, db, "first")
	res, err := Load(ctx, db, goodFiles, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	sameAsSnapshot(t, db, "first")
	if res.Written != 14 {
		t.Errorf("second load wrote %d rows, want 14 (replacing each)", res.Written)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM deployments`).Scan(&n); err != nil || n != 3 {
		t.Errorf("deployments = %d, %v; want 3", n, err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const dep = `{"kind":"deployment","id":"%s","service":"s","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"%s"}`

func TestLaterRecordWins(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := writeFile(t, dir, "a.jsonl", strings.Join([]string{
		strings.Replace(strings.Replace(dep, "%s", "d-1", 1), "%s", "success", 1),
		strings.Replace(strings.Replace(dep, "%s", "d-2", 1), "%s", "success", 1),
		strings.Replace(strings.Replace(dep, "%s", "d-1", 1), "%s", "failure", 1), // replaces line 1
	}, "\n")+"\n")
	b := writeFile(t, dir, "deployments.csv", "id,service,environment,finished_at,status\nd-2,s,production,2026-03-01T10:00:00Z,cancelled\n") // replaces a.jsonl line 2
	db := openDB(t)
	res, err := Load(ctx, db, []string{a, b}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	got := dump(t, db, `SELECT id, status FROM deployments ORDER BY id`)
	want := []string{"id=d-1 | status=failure", "id=d-2 | status=cancelled"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}
	if res.Read != 4 || res.Written != 2 {
		t.Errorf("read %d written %d, want 4 and 2", res.Read, res.Written)
	}

	// A key of several fields: (repo, sha). The same sha in another repo
	// is another commit; the same (repo, sha) again replaces the first.
	commits := writeFile(t, dir, "commits.csv", "sha,repo,authored_at,author\n"+
		"c1,acme/a,2026-03-01T10:00:00Z,first\n"+
		"c1,acme/b,2026-03-01T10:00:00Z,other repo\n"+
		"c1,acme/a,2026-03-01T10:00:00Z,second\n")
	if _, err := Load(ctx, db, []string{commits}, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	got = dump(t, db, `SELECT repo, sha, author FROM commits ORDER BY repo`)
	want = []string{"repo=acme/a | sha=c1 | author=second", "repo=acme/b | sha=c1 | author=other repo"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}

	// A later load with a changed field replaces the row; another source
	// keeps its own row.
	c := writeFile(t, dir, "c.jsonl", strings.Replace(strings.Replace(dep, "%s", "d-1", 1), "%s", "cancelled", 1)+"\n")
	if _, err := Load(ctx, db, []string{c}, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, db, []string{c}, Options{Now: fixedNow, Source: "ci"}); err != nil {
		t.Fatal(err)
	}
	got = dump(t, db, `SELECT id, status, source FROM deployments ORDER BY id, source`)
	want = []string{"id=d-1 | status=cancelled | source=ci", "id=d-1 | status=cancelled | source=file", "id=d-2 | status=cancelled | source=file"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestBadRecords loads each bad fixture in one batch after a good file: the
// error names file, line (or row) and field, and nothing of the batch is
// written. testdata/bad/README.md says where each problem is.
func TestBadRecords(t *testing.T) {
	kinds := "adoption, approval, change, change_request, commit, deployment, incident, release_plan, service, support_ticket, team, test_run"
	tests := []struct {
		file string
		kind string
		want string
	}{
		{file: "malformed.jsonl", want: `testdata/bad/malformed.jsonl: line 2: malformed JSON: unexpected end of JSON input (nothing was loaded)`},
		{file: "missing.jsonl", want: `testdata/bad/missing.jsonl: line 1: deployment field "finished_at": required field is missing (nothing was loaded)`},
		{file: "badtime.jsonl", want: `testdata/bad/badtime.jsonl: line 2: incident field "opened_at": bad time "yesterday": want RFC 3339 with offset, e.g. 2026-03-01T10:00:00+02:00 (nothing was loaded)`},
		{file: "month13.jsonl", want: `testdata/bad/month13.jsonl: line 1: change field "first_commit_at": bad time "2026-13-01T00:00:00Z": want RFC 3339 with offset, e.g. 2026-03-01T10:00:00+02:00 (nothing was loaded)`},
		{file: "nooffset.jsonl", want: `testdata/bad/nooffset.jsonl: line 1: deployment field "finished_at": time "2026-03-01T10:00:00" has no UTC offset (RFC 3339 needs one, e.g. 2026-03-01T10:00:00Z or +02:00) (nothing was loaded)`},
		{file: "unknownkind.jsonl", want: `testdata/bad/unknownkind.jsonl: line 2: field "kind": unknown kind "deploy" (want one of ` + kinds + `) (nothing was loaded)`},
		{file: "nokind.jsonl", want: `testdata/bad/nokind.jsonl: line 1: field "kind": required field is missing (nothing was loaded)`},
		{file: "badenum.jsonl", want: `testdata/bad/badenum.jsonl: line 1: deployment field "status": value "succeeded" is not one of success, failure, cancelled (nothing was loaded)`},
		{file: "wrongtype.jsonl", want: `testdata/bad/wrongtype.jsonl: line 1: service field "tier": wrong type: want an integer, got "high" (nothing was loaded)`},
		{file: "wronglist.jsonl", want: `testdata/bad/wronglist.jsonl: line 1: service field "paths": wrong type: want a list of text, got ["a",3] (nothing was loaded)`},
		{file: "notobject.jsonl", want: `testdata/bad/notobject.jsonl: line 1: a record must be a JSON object (nothing was loaded)`},
		{file: "oneof.jsonl", want: `testdata/bad/oneof.jsonl: line 1: test_run field "commit_sha": one of commit_sha or version is required (nothing was loaded)`},
		{file: "several.jsonl", want: `testdata/bad/several.jsonl: line 2: team field "id": required field is missing (and 1 more bad record; nothing was loaded; --skip-invalid keeps the good ones)`},
		{file: "incidents.csv", want: `testdata/bad/incidents.csv: row 3: incident field "is_false_positive": wrong type: want true or false, got "maybe" (nothing was loaded)`},
		{file: "nocolumn-incidents.csv", kind: "incident", want: `testdata/bad/nocolumn-incidents.csv: row 1: incident field "opened_at": required column is missing from the header (nothing was loaded)`},
		{file: "services.csv", want: `testdata/bad/services.csv: row 2: service field "tier": wrong type: want an integer, got "1.5" (nothing was loaded)`},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			db := openDB(t)
			// Something already loaded, which the failed batch must not touch.
			if _, err := Load(ctx, db, []string{"testdata/deployments.csv"}, Options{Now: fixedNow}); err != nil {
				t.Fatal(err)
			}
			snapshot(t, db, "before")
			paths := []string{"testdata/all.jsonl", "testdata/bad/" + tt.file}
			if tt.kind != "" {
				paths = paths[1:] // --kind applies to every CSV file of the call
			}
			res, err := Load(ctx, db, paths, Options{Now: fixedNow, Kind: tt.kind})
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got  %s\n want %s", err, tt.want)
			}
			var de *DataError
			if !errors.As(err, &de) {
				t.Errorf("error is %T, want *DataError", err)
			}
			sameAsSnapshot(t, db, "before")
			runs := dump(t, db, `SELECT status, rows_written, error FROM ingest_runs WHERE id = `+itoa(res.RunID))
			if len(runs) != 1 || runs[0] != "status=failed | rows_written=0 | error="+tt.want {
				t.Errorf("ingest run = %q", runs)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSkipInvalid(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	var progress bytes.Buffer
	res, err := Load(ctx, db, []string{"testdata/bad/several.jsonl", "testdata/bad/incidents.csv", "testdata/bad/malformed.jsonl"},
		Options{Now: fixedNow, SkipInvalid: true, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	// Good: several.jsonl line 1 (t1), incidents.csv row 2 (i-1),
	// malformed.jsonl line 1 (t1 again: the later one wins). Bad: several
	// lines 2 and 3, incidents row 3, malformed line 2.
	if res.Read != 7 || res.Written != 2 || res.Rejected != 4 {
		t.Errorf("result = %+v, want read 7, written 2, rejected 4", res)
	}
	if got := dump(t, db, `SELECT id, source FROM teams UNION ALL SELECT id, source FROM incidents ORDER BY id`); strings.Join(got, ";") != "id=i-1 | source=file;id=t1 | source=file" {
		t.Errorf("rows = %q", got)
	}
	got := dump(t, db, `SELECT location, kind, field, reason, record FROM rejects ORDER BY location`)
	want := []string{
		`location=testdata/bad/incidents.csv: row 3 | kind=incident | field=is_false_positive | reason=wrong type: want true or false, got "maybe" | ` +
			`record={"id":"i-2","service":"s","severity":"sev2","opened_at":"2026-03-01T11:00:00Z","is_false_positive":"maybe"}`,
		`location=testdata/bad/malformed.jsonl: line 2 | kind=NULL | field=NULL | reason=malformed JSON | record={"kind":"team","id":"t2"`,
		`location=testdata/bad/several.jsonl: line 2 | kind=team | field=id | reason=required field is missing | record={"kind":"team"}`,
		`location=testdata/bad/several.jsonl: line 3 | kind=team | field=id | reason=required field is missing | record={"kind":"team","name":"x"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejects:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	runs := dump(t, db, `SELECT ingest_run, source FROM rejects LIMIT 1`)
	if len(runs) != 1 || runs[0] != "ingest_run="+itoa(res.RunID)+" | source=file" {
		t.Errorf("rejects run = %q", runs)
	}
	if r := dump(t, db, `SELECT status, rows_read, rows_written, rows_rejected FROM ingest_runs`); len(r) != 1 || r[0] != "status=success | rows_read=7 | rows_written=2 | rows_rejected=4" {
		t.Errorf("ingest_runs = %q", r)
	}
	if !strings.Contains(progress.String(), "rejected 4 bad records: see the rejects table (ingest run 1)") ||
		!strings.Contains(progress.String(), "team            1 rows written to teams") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

func TestLoadReaderAndGzip(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	body := strings.Replace(strings.Replace(dep, "%s", "w-1", 1), "%s", "success", 1) + "\n" + `{"id":"w-2","service":"s","environment":"prod","finished_at":"2026-03-01T10:00:00-03:00","status":"failure"}` + "\n"
	res, err := LoadReader(ctx, db, "delivery-42", strings.NewReader(body), Options{Now: fixedNow, Source: "webhook", Kind: "deployment"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 2 {
		t.Errorf("written %d", res.Written)
	}
	// w-2 has no kind: --kind supplies it. 10:00-03:00 is 13:00Z.
	got := dump(t, db, `SELECT id, finished_at, source FROM deployments ORDER BY id`)
	want := "id=w-1 | finished_at=2026-03-01T10:00:00Z | source=webhook;id=w-2 | finished_at=2026-03-01T13:00:00Z | source=webhook"
	if strings.Join(got, ";") != want {
		t.Errorf("got %q", got)
	}
	_, err = LoadReader(ctx, db, "delivery-43", strings.NewReader("{\n"), Options{Now: fixedNow, Source: "webhook"})
	if err == nil || !strings.HasPrefix(err.Error(), "delivery-43: line 1: malformed JSON") {
		t.Errorf("err = %v", err)
	}

	// A gzip-compressed CSV reads like the plain one.
	raw, err := os.ReadFile("testdata/deployments.csv")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	p := writeFile(t, t.TempDir(), "deployments.csv.gz", gz.String())
	if res, err = Load(ctx, db, []string{p}, Options{Now: fixedNow}); err != nil || res.Rows["deployment"] != 2 {
		t.Errorf("gzip load: %+v, %v", res, err)
	}
}

func TestUsageErrors(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	tests := []struct {
		paths []string
		kind  string
		want  string
	}{
		{paths: []string{"testdata/all.jsonl"}, kind: "nope", want: `unknown kind "nope" (want one of adoption, approval, change, change_request, commit, deployment, incident, release_plan, service, support_ticket, team, test_run)`},
		{paths: []string{writeFile(t, dir, "export.csv", "id\n")}, want: filepath.Join(dir, "export.csv") + `: cannot tell the kind of a CSV file from its name: name it after a kind (deployments.csv) or pass --kind`},
		{paths: []string{writeFile(t, dir, "events.xml", "")}, want: filepath.Join(dir, "events.xml") + `: unsupported file type ".xml" (want .jsonl, .ndjson, .json or .csv, optionally .gz)`},
	}
	for _, tt := range tests {
		_, err := Load(context.Background(), db, tt.paths, Options{Kind: tt.kind})
		var ue *UsageError
		if err == nil || err.Error() != tt.want || !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want usage error %q", tt.paths, err, tt.want)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ingest_runs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("usage errors recorded %d runs", n)
	}
}
