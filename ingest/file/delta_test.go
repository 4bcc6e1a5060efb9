package file

import (
	"context"
	"fmt"
	"math"

	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/canonical/digesttest"
)

// TestLoaderLogsDigestsBothWays loads the same batches with the change to
// the digests taken by scanning the table (returningMax 0), from the
// statements' RETURNING (no limit), and with a limit between the sizes
// of the batches' kinds, so that one batch takes both ways. After each
// batch, the digests before it plus what it logged must be the digests
// summed from scratch, and the net rows logged per partition must be
// those worked out by hand:
//
//  1. d1, d2, d3 in svc-a and commit acme/a s1: the first load, written
//     directly (the table held no row of the source): svc-a +3, acme/a +1.
//  2. d1 twice (a row two keys of the batch match: deleted once, written
//     once, the last record wins), d2 moved to svc-b, d4 new in svc-a, d5
//     new in svc-c twice; s1 again (new author), s2 new twice: svc-a
//     -2 (d1, d2) +2 (d1, d4) = 0 in two log rows when scanning, one when
//     summed in Go; svc-b +1; svc-c +1; acme/a -1 +2 = +1. Six good
//     deployments and three good commits.
//  3. with --skip-invalid, d1 with a bad status (rejected: d1 must stay)
//     and d3 moved to svc-b: svc-a -1, svc-b +1. One good deployment.
func TestLoaderLogsDigestsBothWays(t *testing.T) {
	dep := func(id, svc, status string) string {
		return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":%q,"environment":"production","finished_at":"2026-01-02T10:00:00Z","status":%q}`, id, svc, status)
	}
	commit := func(sha, author string) string {
		return fmt.Sprintf(`{"kind":"commit","sha":%q,"repo":"acme/a","author":%q,"authored_at":"2026-01-01T10:00:00Z"}`, sha, author)
	}
	type batch struct {
		lines []string
		skip  bool
		// net rows logged per partition, and how many log rows the
		// deployments of svc-a have when scanning and when summed in Go
		net                  map[string]int64
		scanRows, returnRows int
	}
	batches := []batch{
		{lines: []string{dep("d1", "svc-a", "success"), dep("d2", "svc-a", "success"), dep("d3", "svc-a", "failure"), commit("s1", "ann")},
			net: map[string]int64{"deployments/file/svc-a": 3, "commits/file/acme/a": 1}, scanRows: 1, returnRows: 1},
		{lines: []string{dep("d1", "svc-a", "failure"), dep("d2", "svc-b", "success"), dep("d1", "svc-a", "success"), dep("d4", "svc-a", "success"),
			dep("d5", "svc-c", "failure"), dep("d5", "svc-c", "success"), commit("s1", "bob"), commit("s2", "cy"), commit("s2", "dee")},
			net:      map[string]int64{"deployments/file/svc-a": 0, "deployments/file/svc-b": 1, "deployments/file/svc-c": 1, "commits/file/acme/a": 1},
			scanRows: 2, returnRows: 1},
		{lines: []string{dep("d1", "svc-a", "exploded"), dep("d3", "svc-b", "success")}, skip: true,
			net: map[string]int64{"deployments/file/svc-a": -1, "deployments/file/svc-b": 1}, scanRows: 1, returnRows: 1},
	}
	// the rows stored at the end, worked out by hand
	wantRows := []string{
		"id=d1 | service=svc-a | status=success", "id=d2 | service=svc-b | status=success", "id=d3 | service=svc-b | status=success",
		"id=d4 | service=svc-a | status=success", "id=d5 | service=svc-c | status=success",
	}
	cases := []struct {
		name string
		max  int64
		// returning: whether each batch's deployments are summed in Go
		returning []bool
	}{
		{"scanning", 0, []bool{false, false, false}},
		{"returning", math.MaxInt64, []bool{false, true, true}},
		// the commits of batch 2 (3) are summed in Go, its deployments
		// (6) scanned; batch 3's one deployment summed in Go
		{"both sides", 3, []bool{false, false, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			saved := returningMax
			returningMax = c.max
			defer func() { returningMax = saved }()
			db := openDB(t)
			for i, b := range batches {
				before := digesttest.FromScratch(t, db)
				if _, err := db.Exec(`DELETE FROM ` + canonical.WritesTable); err != nil {
					t.Fatal(err)
				}
				_, err := LoadReader(context.Background(), db, fmt.Sprintf("b%d.jsonl", i+1), strings.NewReader(strings.Join(b.lines, "\n")+"\n"),
					Options{SkipInvalid: b.skip, Now: fixedNow})
				if err != nil {
					t.Fatalf("batch %d: %v", i+1, err)
				}
				// stored digests plus the log = digests from scratch
				if bad := digesttest.Misdigested(t, db, before); len(bad) > 0 {
					t.Errorf("batch %d: the digests before plus the logged changes are not the digests from scratch: %v", i+1, bad)
				}
				logged := digesttest.Logged(t, db)
				for k, want := range b.net {
					if got, ok := logged[k]; !ok || got.Rows != want {
						t.Errorf("batch %d: %s: logged net rows %v, want %d", i+1, k, got, want)
					}
				}
				for k := range logged {
					if _, ok := b.net[k]; !ok {
						t.Errorf("batch %d: logged a change to %s, which it does not touch", i+1, k)
					}
				}
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM ` + canonical.WritesTable + ` WHERE "table" = 'deployments' AND part = 'svc-a'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				want := b.scanRows
				if c.returning[i] {
					want = b.returnRows
				}
				if n != want {
					t.Errorf("batch %d: %d log rows for deployments of svc-a, want %d (returning: %v)", i+1, n, want, c.returning[i])
				}
			}
			got := dump(t, db, `SELECT id, service, status FROM deployments ORDER BY id`)
			if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
				t.Errorf("deployments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
			}
		})
	}
}
