package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func gzipped(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(raw)
	zw.Close()
	return b.Bytes()
}

// A gzip file is read to its trailer before anything is loaded: cut short
// anywhere (in the data, in the 8-byte trailer) or with a wrong checksum,
// the batch fails naming the file, with or without --skip-invalid, and
// nothing is written; the run is recorded as failed with the same text.
func TestTruncatedGzip(t *testing.T) {
	raw, err := os.ReadFile("testdata/all.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	gz := gzipped(t, raw)
	corrupt := append([]byte(nil), gz...)
	corrupt[len(corrupt)-8] ^= 0xff // the CRC-32 of the trailer
	cut := "the gzip stream is cut short: the file is truncated"
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"half", gz[:len(gz)/2], cut},
		{"no trailer", gz[:len(gz)-8], cut},
		{"half a trailer", gz[:len(gz)-4], cut},
		{"one byte short", gz[:len(gz)-1], cut},
		{"bad checksum", corrupt, "the gzip stream fails its checksum: the file is corrupt"},
		{"not gzip", raw, "not a gzip file (the gzip header is invalid)"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/skip=%v", tt.name, skip), func(t *testing.T) {
				db := openDB(t)
				if _, err := Load(ctx, db, []string{"testdata/deployments.csv"}, Options{Now: fixedNow}); err != nil {
					t.Fatal(err)
				}
				snapshot(t, db, "before")
				p := writeFile(t, t.TempDir(), "all.jsonl.gz", string(tt.data))
				res, err := Load(ctx, db, []string{"testdata/all.jsonl", p}, Options{Now: fixedNow, SkipInvalid: skip})
				want := p + ": " + tt.want + " (nothing was loaded)"
				var fe *FileError
				if err == nil || err.Error() != want || !errors.As(err, &fe) || !IsDataError(err) {
					t.Fatalf("error\n got  %v\n want %s", err, want)
				}
				sameAsSnapshot(t, db, "before")
				runs := dump(t, db, `SELECT status, rows_written, error FROM ingest_runs WHERE id = `+itoa(res.RunID))
				if len(runs) != 1 || runs[0] != "status=failed | rows_written=0 | error="+want {
					t.Errorf("ingest run = %q", runs)
				}
			})
		}
	}
	// The whole file loads (a multi-member stream too, as gzip allows).
	db := openDB(t)
	two := append(gzipped(t, raw[:len(raw)/2]), gzipped(t, raw[len(raw)/2:])...)
	for _, data := range [][]byte{gz, two} {
		p := writeFile(t, t.TempDir(), "all.jsonl.gz", string(data))
		if res, err := Load(ctx, db, []string{p}, Options{Now: fixedNow}); err != nil || res.Read != 12 {
			t.Errorf("whole gzip file: %+v, %v; want 12 records", res, err)
		}
	}
}

// Times that cannot be in that order are field errors on the later field,
// quoting both values; offsets count (10:00+01:00 is before 09:30Z).
func TestImpossibleIntervals(t *testing.T) {
	tests := []struct {
		rec  string
		want string // "" loads
	}{
		{`{"kind":"incident","id":"i","service":"s","severity":"sev1","opened_at":"2026-03-01T10:00:00Z","resolved_at":"2026-03-01T09:00:00Z"}`,
			`incident field "resolved_at": 2026-03-01T09:00:00Z is before opened_at 2026-03-01T10:00:00Z`},
		{`{"kind":"incident","id":"i","service":"s","severity":"sev1","opened_at":"2026-03-01T10:00:00Z","acknowledged_at":"2026-03-01T09:59:59Z"}`,
			`incident field "acknowledged_at": 2026-03-01T09:59:59Z is before opened_at 2026-03-01T10:00:00Z`},
		{`{"kind":"deployment","id":"d","service":"s","environment":"prod","status":"success","started_at":"2026-03-01T10:00:00Z","finished_at":"2026-03-01T09:00:00Z"}`,
			`deployment field "finished_at": 2026-03-01T09:00:00Z is before started_at 2026-03-01T10:00:00Z`},
		{`{"kind":"deployment","id":"d","service":"s","environment":"prod","status":"success","started_at":"2026-03-01T10:00:00+01:00","finished_at":"2026-03-01T09:30:00Z"}`, ""},
		{`{"kind":"deployment","id":"d","service":"s","environment":"prod","status":"success","started_at":"2026-03-01T10:00:00-01:00","finished_at":"2026-03-01T10:30:00Z"}`,
			`deployment field "finished_at": 2026-03-01T10:30:00Z is before started_at 2026-03-01T10:00:00-01:00`},
		{`{"kind":"change","id":"c","service":"s","first_commit_at":"2026-02-01T00:00:00Z","opened_at":"2026-03-01T10:00:00Z","merged_at":"2026-03-01T09:00:00Z"}`,
			`change field "merged_at": 2026-03-01T09:00:00Z is before opened_at 2026-03-01T10:00:00Z`},
		{`{"kind":"change","id":"c","service":"s","first_commit_at":"2026-02-01T00:00:00Z","opened_at":"2026-03-01T10:00:00Z","approved_at":"2026-03-01T09:00:00Z"}`,
			`change field "approved_at": 2026-03-01T09:00:00Z is before opened_at 2026-03-01T10:00:00Z`},
		{`{"kind":"change","id":"c","service":"s","first_commit_at":"2026-02-01T00:00:00Z","opened_at":"2026-03-01T10:00:00Z","first_review_at":"2026-03-01T09:00:00Z"}`,
			`change field "first_review_at": 2026-03-01T09:00:00Z is before opened_at 2026-03-01T10:00:00Z`},
		// Commits older than the pull request are normal.
		{`{"kind":"change","id":"c","service":"s","first_commit_at":"2026-03-02T00:00:00Z","opened_at":"2026-03-01T10:00:00Z","merged_at":"2026-03-01T11:00:00Z"}`, ""},
		{`{"kind":"change_request","id":"cr","services":["s"],"risk":"normal","requested_by":"a","created_at":"2026-03-01T00:00:00Z","status":"approved","planned_start":"2026-03-02T10:00:00Z","planned_end":"2026-03-02T09:00:00Z"}`,
			`change_request field "planned_end": 2026-03-02T09:00:00Z is before planned_start 2026-03-02T10:00:00Z`},
		// A change request written after its change (an emergency) is not.
		{`{"kind":"change_request","id":"cr","services":["s"],"risk":"emergency","requested_by":"a","created_at":"2026-03-03T00:00:00Z","status":"implemented","implemented_at":"2026-03-02T09:00:00Z"}`, ""},
		{`{"kind":"support_ticket","id":"t","service":"s","created_at":"2026-03-01T10:00:00Z","resolved_at":"2026-02-28T10:00:00Z"}`,
			`support_ticket field "resolved_at": 2026-02-28T10:00:00Z is before created_at 2026-03-01T10:00:00Z`},
		{`{"kind":"release_plan","id":"r","service":"s","version":"1","planned_at":"2026-03-01T00:00:00Z","window_start":"2026-03-01T10:00:00Z","window_end":"2026-03-01T08:00:00Z"}`,
			`release_plan field "window_end": 2026-03-01T08:00:00Z is before window_start 2026-03-01T10:00:00Z`},
		// A type error in the field comes before the order.
		{`{"kind":"incident","id":"i","service":"s","severity":"sev1","opened_at":"2026-03-01T10:00:00Z","resolved_at":"soon"}`,
			`incident field "resolved_at": bad time "soon": want RFC 3339 with offset, e.g. 2026-03-01T10:00:00+02:00`},
	}
	ctx := context.Background()
	for _, tt := range tests {
		db := openDB(t)
		p := writeFile(t, t.TempDir(), "r.jsonl", "\n"+tt.rec+"\n")
		_, err := Load(ctx, db, []string{p}, Options{Now: fixedNow})
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.rec, err)
			}
			continue
		}
		want := p + ": line 2: " + tt.want + " (nothing was loaded)"
		if err == nil || err.Error() != want {
			t.Errorf("error\n got  %v\n want %s", err, want)
		}
	}
	// The same rule holds in CSV, on the row.
	db := openDB(t)
	p := writeFile(t, t.TempDir(), "incidents.csv", "id,service,severity,opened_at,resolved_at\ni1,s,sev1,2026-03-01T10:00:00Z,2026-03-01T11:00:00Z\ni2,s,sev1,2026-03-01T10:00:00Z,2026-03-01T09:00:00Z\n")
	_, err := Load(ctx, db, []string{p}, Options{Now: fixedNow})
	if want := p + `: row 3: incident field "resolved_at": 2026-03-01T09:00:00Z is before opened_at 2026-03-01T10:00:00Z (nothing was loaded)`; err == nil || err.Error() != want {
		t.Errorf("csv: %v", err)
	}
}

// A required text of blanks, or a required list with nothing in it, says
// nothing: a field error. An optional one stays as written.
func TestEmptyRequiredFields(t *testing.T) {
	dep := func(env string) string {
		return `{"kind":"deployment","id":"d","service":"s","environment":` + env + `,"finished_at":"2026-03-01T10:00:00Z","status":"success","version":""}`
	}
	tests := []struct {
		name, file, content, want string
	}{
		{"empty", "d.jsonl", dep(`""`), `line 1: deployment field "environment": required field is empty`},
		{"blanks", "d.jsonl", dep(`" \t\n"`), `line 1: deployment field "environment": required field is empty`},
		{"empty id", "d.jsonl", `{"kind":"team","id":" "}`, `line 1: team field "id": required field is empty`},
		{"empty list", "c.jsonl", `{"kind":"change_request","id":"cr","services":[],"risk":"normal","requested_by":"a","created_at":"2026-03-01T00:00:00Z","status":"draft"}`,
			`line 1: change_request field "services": required field is an empty list`},
		{"blank csv cell", "deployments.csv", "id,service,environment,finished_at,status\nd1,s,   ,2026-03-01T10:00:00Z,success\n",
			`row 2: deployment field "environment": required field is empty`},
		{"present", "d.jsonl", dep(`"prod"`), ""},
	}
	ctx := context.Background()
	for _, tt := range tests {
		db := openDB(t)
		p := writeFile(t, t.TempDir(), tt.file, tt.content+"\n")
		_, err := Load(ctx, db, []string{p}, Options{Now: fixedNow})
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			if got := dump(t, db, `SELECT version FROM deployments`); len(got) != 1 || got[0] != "version=" {
				t.Errorf("%s: the optional empty version became %q", tt.name, got)
			}
			continue
		}
		if want := p + ": " + tt.want + " (nothing was loaded)"; err == nil || err.Error() != want {
			t.Errorf("%s: error\n got  %v\n want %s", tt.name, err, want)
		}
	}
}

// Invalid UTF-8, a line longer than a record may be and a CSV row with the
// wrong number of fields are each reported at their line (or row) in one
// sentence, with the field where it can be told; --skip-invalid rejects that
// record alone and loads the rest. No message or ingest_runs row carries
// DuckDB's reader dump.
func TestUnreadableRecords(t *testing.T) {
	good := `{"kind":"team","id":"t1"}`
	long := strings.Repeat("garbage ", 10<<20/8) // 10 MiB, not JSON
	tests := []struct {
		name, file, content string
		want                string // the error after the file name
		reject              string // the rejects row under --skip-invalid: location after the file, field, reason
		written             int64
	}{
		{"utf-8 in a value", "t.jsonl", good + "\n" + `{"kind":"team","id":"t2","name":"Pay` + "\xff" + `ments"}` + "\n" + `{"kind":"team","id":"t3"}`,
			`line 2: field "name": invalid UTF-8 (byte 0xff at byte 37 of the line): the file must be UTF-8`,
			`line 2 | field=name | reason=invalid UTF-8 (byte 0xff at byte 37 of the line): the file must be UTF-8`, 2},
		{"utf-8 in a nested value", "t.jsonl", good + "\n" + `{"kind":"team","id":"t2","meta":{"a":["` + "\xc3\x28" + `"]}}`,
			`line 2: field "meta": invalid UTF-8 (byte 0xc3 at byte 40 of the line): the file must be UTF-8`,
			`line 2 | field=meta | reason=invalid UTF-8 (byte 0xc3 at byte 40 of the line): the file must be UTF-8`, 1},
		{"utf-8 in a key", "t.jsonl", `{"kind":"team","i` + "\xfe" + `d":"t2"}` + "\n" + good,
			`line 1: field "i` + "\ufffd" + `d": invalid UTF-8 (byte 0xfe at byte 18 of the line): the file must be UTF-8`,
			`line 1 | field=i` + "\ufffd" + `d | reason=invalid UTF-8 (byte 0xfe at byte 18 of the line): the file must be UTF-8`, 1},
		{"over-long line", "t.jsonl", good + "\n" + long + "\n" + `{"kind":"team","id":"t3"}`,
			fmt.Sprintf("line 2: the line is %d bytes long, more than the 8388608 a record may take", len(long)),
			fmt.Sprintf("line 2 | field=NULL | reason=the line is %d bytes long, more than the 8388608 a record may take", len(long)), 2},
		{"csv extra field", "deployments.csv", "id,service,environment,finished_at,status\nd1,s,prod,2026-03-01T10:00:00Z,success\nd2,s,prod,2026-03-01T10:00:00Z,success,EXTRA\n",
			`row 3: deployment record: the row has 6 fields and the header 5`,
			`row 3 | field=NULL | reason=the row has 6 fields and the header 5`, 1},
		{"csv missing field", "deployments.csv", "id,service,environment,finished_at,status\nd1,s,prod\nd2,s,prod,2026-03-01T10:00:00Z,success\n",
			`row 2: deployment record: the row has 3 fields and the header 5`,
			`row 2 | field=NULL | reason=the row has 3 fields and the header 5`, 1},
		{"csv utf-8", "deployments.csv", "id,service,environment,finished_at,status\nd1,s,pr\xffod,2026-03-01T10:00:00Z,success\nd2,s,prod,2026-03-01T10:00:00Z,success\n",
			`row 2: deployment field "environment": invalid UTF-8 (byte 0xff at byte 3 of the field): the file must be UTF-8`,
			`row 2 | field=environment | reason=invalid UTF-8 (byte 0xff at byte 3 of the field): the file must be UTF-8`, 1},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tt.file, tt.content+"\n")
			db := openDB(t)
			res, err := Load(ctx, db, []string{p}, Options{Now: fixedNow})
			if want := p + ": " + tt.want + " (nothing was loaded)"; err == nil || err.Error() != want {
				t.Fatalf("error\n got  %.500v\n want %.500s", err, want)
			}
			runs := dump(t, db, `SELECT status, error FROM ingest_runs WHERE id = `+itoa(res.RunID))
			if len(runs) != 1 || runs[0] != "status=failed | error="+err.Error() {
				t.Errorf("ingest run = %.300q", runs)
			}
			for _, internal := range []string{"Possible", "delimiter", "sniff", "Invalid Input Error", "\n"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("the message shows the reader's internals (%q)", internal)
				}
			}
			if n := dump(t, db, `SELECT count(*) AS n FROM teams`); n[0] != "n=0" {
				t.Errorf("teams after the failed batch: %v", n)
			}

			db = openDB(t)
			res, err = Load(ctx, db, []string{p}, Options{Now: fixedNow, SkipInvalid: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected != 1 || res.Written != tt.written {
				t.Errorf("skip-invalid: %+v, want 1 rejected and %d written", res, tt.written)
			}
			rej := dump(t, db, `SELECT location, field, reason FROM rejects`)
			if want := "location=" + p + ": " + tt.reject; len(rej) != 1 || rej[0] != want {
				t.Errorf("rejects\n got  %.500q\n want %.500s", rej, want)
			}
		})
	}
}

// A push body with invalid UTF-8 is a bad record like any other.
func TestLoadReaderInvalidUTF8(t *testing.T) {
	db := openDB(t)
	body := `{"kind":"team","id":"t1"}` + "\n" + `{"kind":"team","id":"t` + "\xff" + `2"}` + "\n"
	_, err := LoadReader(context.Background(), db, "push:ci-9", strings.NewReader(body), Options{Now: fixedNow, Source: "push"})
	want := `push:ci-9: line 2: field "id": invalid UTF-8 (byte 0xff at byte 23 of the line): the file must be UTF-8 (nothing was loaded)`
	if err == nil || err.Error() != want || !IsDataError(err) {
		t.Errorf("error\n got  %v\n want %s", err, want)
	}
}
