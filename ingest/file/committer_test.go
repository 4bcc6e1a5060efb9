package file

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func openFileDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The committer's first group, checked by hand: the offsets are turned
// into instants, unknown keys go to extra, an update replaces the earlier
// row of its key, and the run is recorded with the records.
func TestGroupCommitterByHand(t *testing.T) {
	ctx := context.Background()
	db := openFileDB(t)
	c := NewGroupCommitter(db, Options{Source: "push", Now: fixedNow})
	defer c.Close()
	first := []Stream{
		{"push:a", []byte(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T12:00:00+02:00","started_at":"2026-03-01T11:30:00+02:00","status":"success","ci":{"run": 7},"build":1.50}` + "\n")},
		{"push:b", []byte("\n" + `{"kind":"deployment","id":"d2","service":"web","environment":"staging","finished_at":"2026-03-01T05:00:00-05:30","status":"failure","ci":{"run":8},"build":2}`)},
	}
	if _, err := c.Load(ctx, first, nil); err != nil || c.path != "fast" {
		t.Fatalf("first group: %v (path %s)", err, c.path)
	}
	second := []Stream{{"push:c", []byte(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T13:00:00Z","status":"failure","changes":["c1","c2"],"is_rollback":true}`)}}
	res, err := c.Load(ctx, second, nil)
	if err != nil || c.path != "fast" {
		t.Fatalf("second group: %v (path %s)", err, c.path)
	}
	if res.Read != 1 || res.Written != 1 || res.Rows["deployment"] != 1 {
		t.Errorf("second group: %+v", res)
	}
	got := dump(t, db, `SELECT id, strftime(finished_at AT TIME ZONE 'UTC', '%H:%M') AS fin, strftime(started_at AT TIME ZONE 'UTC', '%H:%M') AS st,
		status, changes, is_rollback, CAST(extra AS VARCHAR) AS extra, source FROM deployments ORDER BY id`)
	want := []string{
		// 13:00Z replaced 12:00+02:00 (10:00Z); the update has no unknown keys
		`id=d1 | fin=13:00 | st=NULL | status=failure | changes=["c1","c2"] | is_rollback=true | extra=NULL | source=push`,
		// 05:00-05:30 is 10:30Z; extra made compact as DuckDB's reader makes it
		`id=d2 | fin=10:30 | st=NULL | status=failure | changes=NULL | is_rollback=NULL | extra={"ci":{"run":8},"build":2} | source=push`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deployments\n got  %q\n want %q", got, want)
	}
	runs := dump(t, db, `SELECT target, rows_read, rows_written, rows_rejected, status FROM ingest_runs ORDER BY id`)
	wantRuns := []string{
		"target=push:a push:b | rows_read=2 | rows_written=2 | rows_rejected=0 | status=success",
		"target=push:c | rows_read=1 | rows_written=1 | rows_rejected=0 | status=success",
	}
	if strings.Join(runs, "\n") != strings.Join(wantRuns, "\n") {
		t.Errorf("ingest_runs\n got  %q\n want %q", runs, wantRuns)
	}
}

// Random groups loaded through the committer into one warehouse and
// through LoadGroup into another leave the same rows in every canonical
// table and the same ingest_runs counts, and fail with the same errors.
func TestGroupCommitterMatchesLoadGroup(t *testing.T) {
	ctx := context.Background()
	fastDB, groupDB := openFileDB(t), openFileDB(t)
	c := NewGroupCommitter(fastDB, Options{Source: "push", Now: fixedNow})
	defer c.Close()
	rng := rand.New(rand.NewPCG(20, 1))
	paths := map[string]int{}
	for round := 0; round < 60; round++ {
		streams := randomGroup(rng, round)
		var log []string
		inTx := func(ctx context.Context, conn *sql.Conn) error { log = append(log, "intx"); return nil }
		_, ferr := c.Load(ctx, streams, inTx)
		paths[c.path]++
		_, gerr := LoadGroup(ctx, groupDB, streams, Options{Source: "push", Now: fixedNow})
		if fmt.Sprint(ferr) != fmt.Sprint(gerr) {
			t.Fatalf("round %d: committer error %v, LoadGroup error %v", round, ferr, gerr)
		}
		var fge, gge *GroupError
		if errors.As(ferr, &fge) != errors.As(gerr, &gge) || fge != nil && fge.Index != gge.Index {
			t.Fatalf("round %d: committer %#v, LoadGroup %#v", round, ferr, gerr)
		}
		if ferr == nil && len(log) != 1 {
			t.Fatalf("round %d: inTx called %d times", round, len(log))
		}
	}
	// Both paths were taken, the fast one most often.
	if paths["fast"] < 30 || paths["group"] < 5 {
		t.Errorf("paths taken %v, want at least 30 fast and 5 group", paths)
	}
	for _, k := range canonical.Kinds {
		q := fmt.Sprintf(`SELECT * EXCLUDE (ingested_at) FROM %s ORDER BY ALL`, warehouse.QuoteIdent(k.Table))
		if !hasColumn(t, fastDB, k.Table, "ingested_at") {
			q = fmt.Sprintf(`SELECT * FROM %s ORDER BY ALL`, warehouse.QuoteIdent(k.Table))
		}
		f, g := dump(t, fastDB, q), dump(t, groupDB, q)
		if strings.Join(f, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s differs\n committer %q\n LoadGroup %q", k.Table, f, g)
		}
	}
	q := `SELECT source, target, rows_read, rows_written, rows_rejected, status FROM ingest_runs WHERE status = 'success' ORDER BY id`
	if f, g := dump(t, fastDB, q), dump(t, groupDB, q); strings.Join(f, "\n") != strings.Join(g, "\n") {
		t.Errorf("ingest_runs differ\n committer %q\n LoadGroup %q", f, g)
	}
	if n := dump(t, fastDB, `SELECT count(*) AS n FROM deployments`); n[0] == "n=0" {
		t.Error("nothing was loaded")
	}
}

func hasColumn(t *testing.T, db *warehouse.DB, table, column string) bool {
	got := dump(t, db, fmt.Sprintf(`SELECT count(*) AS n FROM information_schema.columns WHERE table_name = '%s' AND column_name = '%s'`, table, column))
	return got[0] == "n=1"
}

// randomGroup is a group of pushes: deployments, incidents and services
// with keys from a small pool (so later groups update earlier keys),
// times with offsets, optional fields; in some rounds unknown keys (the
// same on every record of a kind, or not), a key repeated, a bad record.
func randomGroup(rng *rand.Rand, round int) []Stream {
	offsets := []string{"Z", "+02:00", "-05:30", "+00:00"}
	ts := func(h int) string {
		return fmt.Sprintf("2026-03-%02dT%02d:%02d:%02d%s", 1+rng.IntN(20), h, rng.IntN(60), rng.IntN(60), offsets[rng.IntN(len(offsets))])
	}
	extra := ""
	switch rng.IntN(5) {
	case 0:
		extra = `,"ci":{"run": ` + fmt.Sprint(round) + `, "ok": true},"build":1.50`
	case 1:
		extra = `,"runner":"linux"`
	}
	mixed := rng.IntN(12) == 0 // unknown keys on some records only
	bad := rng.IntN(12) == 0
	used := map[string]bool{}
	n := 1 + rng.IntN(6)
	streams := make([]Stream, n)
	for i := range streams {
		var b strings.Builder
		for j := 0; j < 1+rng.IntN(8); j++ {
			kind := rng.IntN(3)
			id := fmt.Sprint(rng.IntN(40))
			if used[fmt.Sprint(kind, id)] && rng.IntN(20) != 0 {
				id += fmt.Sprintf("-%d-%d-%d", round, i, j) // most groups repeat no key
			}
			used[fmt.Sprint(kind, id)] = true
			x := extra
			if mixed && j%2 == 1 {
				x = ""
			}
			switch kind {
			case 0:
				status := []string{"success", "failure", "cancelled"}[rng.IntN(3)]
				if bad && j == 0 && i == n-1 {
					status = "succeeded"
				}
				fmt.Fprintf(&b, `{"kind":"deployment","id":"d%s","service":"svc%d","environment":"production","finished_at":%q,"status":%q`, id, rng.IntN(5), ts(12), status)
				if rng.IntN(2) == 0 {
					fmt.Fprintf(&b, `,"started_at":"2026-03-01T01:00:00+01:00"`)
				}
				if rng.IntN(3) == 0 {
					b.WriteString(`,"changes":["a","b"],"is_rollback":false,"version":null`)
				}
			case 1:
				fmt.Fprintf(&b, `{"severity":%q,"kind":"incident","id":"i%s","service":"svc%d","opened_at":%q`, []string{"sev1", "sev2", "sev3"}[rng.IntN(3)], id, rng.IntN(5), ts(3))
				if rng.IntN(2) == 0 {
					fmt.Fprintf(&b, `,"resolved_at":"2026-04-01T00:00:00+01:00","is_false_positive":%v`, rng.IntN(2) == 0)
				}
			default:
				fmt.Fprintf(&b, `{"kind":"service","id":"s%s","team":"t%d","tier":%d,"paths":["x/%d"]`, id, rng.IntN(3), rng.IntN(4), j)
			}
			b.WriteString(x + "}\n")
		}
		streams[i] = Stream{Name: fmt.Sprintf("push:%d-%d", round, i), Data: []byte(b.String())}
	}
	return streams
}
