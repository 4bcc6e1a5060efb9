package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// fuzzDB is one in-memory warehouse per fuzzing process: opening one per
// input would spend the time on migrations instead of on the reader.
var (
	fuzzN    atomic.Int64
	fuzzOnce sync.Once
	fuzzWH   *warehouse.DB
	fuzzErr  error
)

func fuzzDB(t *testing.T) *warehouse.DB {
	fuzzOnce.Do(func() { fuzzWH, fuzzErr = warehouse.OpenMemory(context.Background()) })
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzWH
}

// rowCount counts every canonical row of the warehouse.
func rowCount(t *testing.T, db *warehouse.DB) int64 {
	var n int64
	err := db.QueryRow(`SELECT (SELECT count(*) FROM teams) + (SELECT count(*) FROM services) + (SELECT count(*) FROM deployments)
		+ (SELECT count(*) FROM changes) + (SELECT count(*) FROM commits) + (SELECT count(*) FROM incidents)
		+ (SELECT count(*) FROM change_requests) + (SELECT count(*) FROM approvals) + (SELECT count(*) FROM support_tickets)
		+ (SELECT count(*) FROM test_runs) + (SELECT count(*) FROM adoption) + (SELECT count(*) FROM release_plans)`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkLoad loads one fuzzed file twice, without and with --skip-invalid,
// and checks what the loader promises whatever the bytes:
//   - without --skip-invalid, it loads or fails with a bad-record error
//     (DataError or FileError) in one line, and a failure writes nothing;
//   - with --skip-invalid, it loads: every record it cannot take is
//     rejected on its own, and the counts add up.
func checkLoad(t *testing.T, name string, data []byte) {
	db := fuzzDB(t)
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A source of its own per input: the warehouse holds no row of it, as
	// for a first load, and inputs do not replace each other's rows.
	src := fmt.Sprintf("fuzz%d", fuzzN.Add(1))
	before := rowCount(t, db)
	_, err := Load(ctx, db, []string{p}, Options{Source: src})
	if err != nil {
		var ue *UsageError
		if !IsDataError(err) && !errors.As(err, &ue) {
			t.Fatalf("not a bad-record error: %T %v", err, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("the error spans lines: %q", err)
		}
		if after := rowCount(t, db); after != before {
			t.Fatalf("a failed load wrote %d rows", after-before)
		}
	}
	res, err := Load(ctx, db, []string{p}, Options{Source: src + "s", SkipInvalid: true})
	if err != nil {
		var fe *FileError
		var de *DataError
		if errors.As(err, &fe) || errors.As(err, &de) && de.CSV && de.Line >= 1 {
			return // the file as a whole (a CSV header or quoting) cannot be read
		}
		t.Fatalf("--skip-invalid failed: %T %v", err, err)
	}
	if res.Rejected < 0 || res.Written > res.Read || res.Rejected > res.Read {
		t.Fatalf("counts: %+v", res)
	}
}

func FuzzLoadJSONL(f *testing.F) {
	for _, s := range []string{
		`{"kind":"team","id":"t1"}`,
		`{"kind":"deployment","id":"d","service":"s","environment":"prod","finished_at":"2026-03-01T10:00:00Z","status":"success"}`,
		"{\"kind\":\"team\",\"id\":\"\xff\"}\n{\"kind\":\"team\",\"id\":\"t2\"}",
		`[1,2]`, "", "\n\n", `{"kind":"incident","id":"i","service":"s","severity":"sev1","opened_at":"2026-03-01T10:00:00Z","resolved_at":"2026-03-01T09:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkLoad(t, "f.jsonl", data) })
}

func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"id,service,environment,finished_at,status\nd1,s,prod,2026-03-01T10:00:00Z,success\n",
		"id,service,environment,finished_at,status\nd1,s,prod,2026-03-01T10:00:00Z,success,x\n",
		"id,service\n\"a\nb\",c\n", "id,id\n1,2\n", "\ufeffid,service,environment,finished_at,status\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkLoad(t, "deployments.csv", data) })
}

// The Go side of sanitize alone, fast: whatever the line, the copy it
// writes is valid UTF-8 without NUL bytes, line for line.
func FuzzSanitizeJSONL(f *testing.F) {
	f.Add([]byte("{\"a\":\"\xff\"}\n{}\n"))
	f.Add([]byte("\x01x\ty\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "in.jsonl")
		os.WriteFile(p, data, 0o644)
		in, found, err := sanitize(input{name: "in.jsonl", path: p}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return
		}
		out, _ := os.ReadFile(in.path)
		if strings.Count(string(out), "\n") < strings.Count(string(data), "\n") {
			t.Fatalf("lines lost: %q → %q", data, out)
		}
		for i, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, marker) && (strings.ContainsRune(l, 0) || !utf8Valid(l)) {
				t.Fatalf("marker line %d is not clean: %q", i+1, l)
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
