package file

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func groupDep(id, status string) string {
	return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":%q}`, id, status)
}

// A group is one batch: every stream's records or none, later streams
// replacing earlier ones' records of the same key, the caller's InTx
// committed with them, and a bad record pinned to its stream with the
// error that stream gives alone.
func TestLoadGroup(t *testing.T) {
	good1 := groupDep("d1", "success") + "\n" + groupDep("d2", "success") + "\n"
	// no final newline, and blank lines: the next stream's lines still
	// count from its own first line
	good2 := "\n" + groupDep("d2", "failure") + "\n\n" + groupDep("d3", "success")
	bad := groupDep("d4", "success") + "\n" + groupDep("d5", "succeeded") + "\n"
	tests := []struct {
		name    string
		streams []Stream
		// want: the deployments after the load (id=status), or the error
		// and the index of the stream it names
		want    string
		wantErr string
		index   int
	}{
		{
			name:    "all good, later stream wins a key",
			streams: []Stream{{"push:a", []byte(good1)}, {"push:b", []byte(good2)}},
			want:    "d1=success d2=failure d3=success",
		},
		{
			name:    "bad record in the third stream",
			streams: []Stream{{"push:a", []byte(good1)}, {"push:b", []byte(good2)}, {"push:c", []byte(bad)}},
			wantErr: `push:c: line 2: deployment field "status": value "succeeded" is not one of success, failure, cancelled (nothing was loaded)`,
			index:   2,
		},
		{
			name:    "bad record in the first stream",
			streams: []Stream{{"push:c", []byte(bad)}, {"push:a", []byte(good1)}},
			wantErr: `push:c: line 2: deployment field "status": value "succeeded" is not one of success, failure, cancelled (nothing was loaded)`,
			index:   0,
		},
		{
			name:    "malformed line after blank lines",
			streams: []Stream{{"push:b", []byte(good2)}, {"push:m", []byte("\n\n{nope\n")}},
			wantErr: `push:m: line 3: malformed JSON: invalid character 'n' looking for beginning of object key string (nothing was loaded)`,
			index:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			ctx := context.Background()
			calls := 0
			inTx := func(ctx context.Context, conn *sql.Conn) error {
				calls++
				_, err := conn.ExecContext(ctx, `CREATE TABLE marker AS SELECT 1 AS x`)
				return err
			}
			res, err := LoadGroup(ctx, db, tt.streams, Options{Source: "push", Now: fixedNow, InTx: inTx})
			if tt.wantErr != "" {
				var ge *GroupError
				if !errors.As(err, &ge) || ge.Index != tt.index || err.Error() != tt.wantErr || !IsDataError(err) {
					t.Fatalf("error\n got  %v (%T)\n want stream %d: %s", err, err, tt.index, tt.wantErr)
				}
				if got := dump(t, db, `SELECT count(*) AS n FROM deployments`); got[0] != "n=0" {
					t.Errorf("deployments after a failed group: %v", got)
				}
				if got := dump(t, db, `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'marker'`); got[0] != "n=0" {
					t.Errorf("InTx's write outlived a failed group")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("InTx called %d times, want 1", calls)
			}
			var ids []string
			for _, r := range dump(t, db, `SELECT id || '=' || status AS d FROM deployments ORDER BY id`) {
				ids = append(ids, strings.TrimPrefix(r, "d="))
			}
			if got := strings.Join(ids, " "); got != tt.want {
				t.Errorf("deployments %q, want %q", got, tt.want)
			}
			if got := dump(t, db, `SELECT count(*) AS n FROM marker`); got[0] != "n=1" {
				t.Errorf("InTx's write: %v", got)
			}
			runs := dump(t, db, `SELECT target, status, rows_read FROM ingest_runs`)
			// 2 + 2 records read (blank lines are not records)
			if want := "target=push:a push:b | status=success | rows_read=4"; len(runs) != 1 || runs[0] != want {
				t.Errorf("ingest_runs %q, want %q", runs, want)
			}
			if res.Written != 3 {
				t.Errorf("written %d, want 3 (d2 twice)", res.Written)
			}
		})
	}
}
