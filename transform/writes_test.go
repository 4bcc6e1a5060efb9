package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/cdevents"
	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/config"
)

// dayOne: two services of one team, a deployment each.
const dayOne = `{"kind":"team","id":"t1","name":"T1"}
{"kind":"service","id":"svc-a","name":"A","team":"t1"}
{"kind":"service","id":"svc-b","name":"B","team":"t1"}
{"kind":"deployment","id":"a1","service":"svc-a","environment":"production","finished_at":"2026-01-02T10:00:00Z","status":"success"}
{"kind":"deployment","id":"b1","service":"svc-b","environment":"production","finished_at":"2026-01-02T11:00:00Z","status":"success"}
`

// TestWritesLogDrivesDigests follows the log of canonical writes from
// the writers to the transform's plan on a small warehouse.
func TestWritesLogDrivesDigests(t *testing.T) {
	ctx := context.Background()
	db := fileDB(t)
	cfg := config.Default()
	load := func(jsonl string) {
		t.Helper()
		if _, err := file.LoadReader(ctx, db, "x.jsonl", strings.NewReader(jsonl), file.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	logRows := func() []string {
		t.Helper()
		// per key: the net change of its row count, and of its digest
		// when that is zero (else "h")
		rows, err := db.Query(`SELECT "table" || '/' || source || '/' || coalesce(part, '') || ':' || sum("rows") || ':' ||
			CASE WHEN sum(digest) = 0 THEN '0' ELSE 'h' END FROM ` + canonical.WritesTable + ` GROUP BY "table", source, part ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	transform := func(opts Options) string {
		t.Helper()
		var progress strings.Builder
		opts.Progress = &progress
		if err := Run(ctx, db, cfg, opts); err != nil {
			t.Fatalf("%v\n%s", err, progress.String())
		}
		return progress.String()
	}
	load(dayOne)
	// a first load of the source: every row new, per partition
	if got, want := strings.Join(logRows(), " "), "deployments/file/svc-a:1:h deployments/file/svc-b:1:h services/file/:2:h teams/file/:1:h"; got != want {
		t.Errorf("log after the first load: %s, want %s", got, want)
	}
	if out := transform(Options{}); !strings.Contains(out, "full rebuild: no earlier build recorded") {
		t.Fatalf("first transform:\n%s", out)
	}
	if got := logRows(); len(got) != 0 {
		t.Fatalf("the build left log rows %v", got)
	}

	// one service's new deployment: exactly (deployments, file, svc-a)
	load(`{"kind":"deployment","id":"a2","service":"svc-a","environment":"production","finished_at":"2026-01-03T10:00:00Z","status":"success"}` + "\n")
	if got, want := strings.Join(logRows(), " "), "deployments/file/svc-a:1:h"; got != want {
		t.Errorf("log after one deployment of svc-a: %s, want %s", got, want)
	}
	// the change logged is the stored row's hash, as a full build sums it
	var same bool
	if err := db.QueryRow(`SELECT (SELECT sum(digest) FROM ` + canonical.WritesTable + `) = (SELECT hash(t)::HUGEINT FROM deployments t WHERE id = 'a2')`).Scan(&same); err != nil || !same {
		t.Errorf("the logged digest of a2 is not hash(t) of the stored row (%v)", err)
	}
	out := transform(Options{})
	if !strings.Contains(out, "incremental: 1 service(s)") || !strings.Contains(out, "digests ") || !strings.Contains(out, "(1 partition(s) from the log of writes)") {
		t.Errorf("transform after one deployment:\n%s", out)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM fct_deployments WHERE service = 'svc-a'`).Scan(&n)
	if n != 2 {
		t.Errorf("fct_deployments of svc-a: %d rows, want 2 (a1, a2)", n)
	}

	// the same rows again: each key's rows deleted and written again,
	// logged, netting to no change
	load(dayOne)
	if got, want := strings.Join(logRows(), " "), "deployments/file/svc-a:0:0 deployments/file/svc-b:0:0 services/file/:0:0 teams/file/:0:0"; got != want {
		t.Errorf("log after re-ingesting day one: %s, want %s", got, want)
	}
	if out := transform(Options{}); !strings.Contains(out, "nothing changed since the last build") || !strings.Contains(out, "4 partition(s) from the log of writes") {
		t.Errorf("transform after identical rows:\n%s", out)
	}
	if got := logRows(); len(got) != 0 {
		t.Errorf("a run that found nothing left log rows %v", got)
	}

	// a mapper rewrites its source's rows, identical: nothing changed
	cd, err := cdevents.New(&config.CDEvents{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join("..", "ingest", "cdevents", "testdata", "spec", "service_deployed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, spec); err != nil {
		t.Fatal(err)
	}
	events, err := cdevents.ReadLines(&line, "service_deployed.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cd.StoreEvents(ctx, db, events); err != nil {
		t.Fatal(err)
	}
	if err := cd.Map(ctx, db); err != nil {
		t.Fatal(err)
	}
	var mapped int
	db.QueryRow(`SELECT count(*) FROM deployments WHERE source = 'cdevents'`).Scan(&mapped)
	if mapped != 1 {
		t.Fatalf("cdevents deployments: %d, want 1", mapped)
	}
	transform(Options{})
	out = transform(Options{Mappers: []ingest.Mapper{cd}})
	if !strings.Contains(out, "mapped cdevents") {
		t.Errorf("the mapper did not run:\n%s", out)
	}
	if !strings.Contains(out, "nothing changed since the last build") {
		t.Errorf("transform after a mapper rewrote identical rows:\n%s", out)
	}

	// a row written behind shiplog's back: counted, and every row re-read
	if _, err := db.Exec(`INSERT INTO deployments (id, service, environment, finished_at, status, source) VALUES ('b2', 'svc-b', 'production', TIMESTAMPTZ '2026-01-05 10:00:00Z', 'success', 'file')`); err != nil {
		t.Fatal(err)
	}
	out = transform(Options{})
	if !strings.Contains(out, "every row re-read: deployments holds 5 row(s), the log of writes accounts for 4") || !strings.Contains(out, "incremental: 1 service(s)") {
		t.Errorf("transform after an INSERT by another program:\n%s", out)
	}

	// a load that fails leaves no log row
	if _, err := file.LoadReader(ctx, db, "bad.jsonl", strings.NewReader(`{"kind":"deployment","id":"a3","service":"svc-a","environment":"production","finished_at":"2026-01-06T10:00:00Z","status":"success"}
{"kind":"deployment","id":"a4","service":"svc-a","environment":"production","finished_at":"yesterday","status":"success"}
`), file.Options{}); err == nil {
		t.Fatal("a bad record loaded")
	}
	if got := logRows(); len(got) != 0 {
		t.Errorf("a failed load left log rows %v", got)
	}
}
