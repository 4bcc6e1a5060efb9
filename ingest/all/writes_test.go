package all_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/gate"
	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/all"
	"github.com/shiplog/shiplog/ingest/file"
	gitsrc "github.com/shiplog/shiplog/ingest/git"
	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	"github.com/shiplog/shiplog/ingest/junit"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/canonical/digesttest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/gitfixture"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// everyKind is a JSON Lines batch with a record of every kind; svc names
// the service of deployment d1 (a later batch moves it).
func everyKind(svc string) string {
	return strings.Join([]string{
		`{"kind":"team","id":"t1","name":"T1"}`,
		`{"kind":"service","id":"svc-a","name":"A","team":"t1"}`,
		`{"kind":"service","id":"svc-b","name":"B","team":"t1"}`,
		`{"kind":"deployment","id":"d1","service":"` + svc + `","environment":"production","finished_at":"2026-01-02T10:00:00Z","status":"success"}`,
		`{"kind":"change","id":"acme/a#1","service":"svc-a","first_commit_at":"2026-01-01T10:00:00Z"}`,
		`{"kind":"commit","sha":"abc","repo":"acme/a","authored_at":"2026-01-01T10:00:00Z"}`,
		`{"kind":"incident","id":"i1","service":"svc-b","severity":"sev1","opened_at":"2026-01-03T10:00:00Z"}`,
		`{"kind":"change_request","id":"CR-1","services":["svc-a"],"risk":"normal","requested_by":"ann","created_at":"2026-01-01T10:00:00Z","status":"approved"}`,
		`{"kind":"approval","change_request":"CR-1","approver":"bob","decision":"approved","decided_at":"2026-01-01T11:00:00Z"}`,
		`{"kind":"support_ticket","id":"s1","service":"svc-a","created_at":"2026-01-04T10:00:00Z"}`,
		`{"kind":"test_run","id":"r1","service":"svc-a","version":"1.0","started_at":"2026-01-01T10:00:00Z","tests":3,"passed":3,"failed":0}`,
		`{"kind":"adoption","service":"svc-a","feature":"f","day":"2026-01-05","active_users":4}`,
		`{"kind":"release_plan","id":"p1","service":"svc-a","version":"1.0","planned_at":"2026-01-01T10:00:00Z"}`,
	}, "\n") + "\n"
}

// pushed moves deployment d1 back to svc-a and adds a commit, as the
// group committer writes pushes on its own path (no list fields).
const pushed = `{"kind":"deployment","id":"d1","service":"svc-a","environment":"production","finished_at":"2026-01-02T10:00:00Z","status":"success"}
{"kind":"commit","sha":"def","repo":"acme/a","authored_at":"2026-01-02T10:00:00Z"}
`

// seedEveryTable writes, for source, one row of the required fields into
// every canonical table, with raw SQL, so that a writer that replaces its
// source's rows shows which tables it rewrote.
func seedEveryTable(t *testing.T, db *warehouse.DB, source string) {
	t.Helper()
	for _, k := range canonical.Kinds {
		cols := []string{"source"}
		vals := []string{warehouse.QuoteString(source)}
		for _, f := range k.Fields {
			if !f.Required && f.OneOf == "" {
				continue
			}
			v := map[canonical.Type]string{canonical.Text: "'seed'", canonical.Int: "1", canonical.Float: "1", canonical.Bool: "true",
				canonical.Time: "TIMESTAMPTZ '2026-01-01 00:00:00Z'", canonical.Date: "DATE '2026-01-01'", canonical.TextList: "['seed']", canonical.JSON: "'{}'"}[f.Type]
			if len(f.Enum) > 0 {
				v = warehouse.QuoteString(f.Enum[0])
			}
			cols = append(cols, warehouse.QuoteIdent(f.Name))
			vals = append(vals, v)
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", warehouse.QuoteIdent(k.Table), strings.Join(cols, ", "), strings.Join(vals, ", "))
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestWritersLogTheirPartitions runs every program path that writes a
// canonical table (the list beside the log's definition, migration 0210)
// on one warehouse, and after each asserts, key by key, that the digests
// before it plus the changes it logged in the log of canonical writes are
// the digests summed from scratch, as the transform's full build sums
// them: a writer that forgets a partition or logs a wrong change would
// leave the marts of an incremental transform stale.
func TestWritersLogTheirPartitions(t *testing.T) {
	ctx := context.Background()
	// a file, not memory: the group committer writes pushes on its own
	// path only there
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Default()
	cfg.Sources.GitHub = &config.GitHub{Repos: []string{"acme/web"}}
	cfg.Sources.GitLab = &gitlabsrc.Config{Projects: []string{"acme/api"}}
	cfg.Sources.Jira = &config.Jira{URL: "https://acme.atlassian.net", User: "bot@acme.com", TokenEnv: "JIRA_TOKEN",
		Incidents: &config.JiraIncidents{JQL: "project = OPS"}}
	cfg.Sources.PagerDuty = &config.PagerDuty{}
	cfg.Sources.CDEvents = &config.CDEvents{}
	repo, _ := gitfixture.Release(t)

	type writer struct {
		name string
		seed string // a source whose rows are written into every table first
		run  func() error
		// changed: partitions the writer must have changed (hand-picked
		// from its input), so that a writer doing nothing fails too
		changed []string
	}
	writers := []writer{
		{name: "file, first load (written directly)", run: func() error {
			_, err := file.LoadReader(ctx, db, "a.jsonl", strings.NewReader(everyKind("svc-a")), file.Options{})
			return err
		}, changed: []string{"deployments/file/svc-a", "commits/file/acme/a", "approvals/file/CR-1", "teams/file/"}},
		{name: "file, reload moving d1 to svc-b (staged)", run: func() error {
			_, err := file.LoadReader(ctx, db, "b.jsonl", strings.NewReader(everyKind("svc-b")), file.Options{})
			return err
		}, changed: []string{"deployments/file/svc-a", "deployments/file/svc-b"}},
		{name: "push, moving d1 back to svc-a (group committer)", run: func() error {
			c := file.NewGroupCommitter(db, file.Options{})
			defer c.Close()
			_, err := c.Load(ctx, []file.Stream{{Name: "push:1", Data: []byte(pushed)}}, nil)
			return err
		}, changed: []string{"deployments/file/svc-a", "deployments/file/svc-b", "commits/file/acme/a"}},
		{name: "junit", run: func() error {
			_, err := junit.Load(ctx, db, []string{filepath.Join("..", "junit", "testdata", "pytest.xml")}, junit.Options{Service: "svc-a", Version: "1.0"})
			return err
		}, changed: []string{"test_runs/junit/"}},
		{name: "git", run: func() error {
			src, err := gitsrc.New(gitsrc.Config{Repo: repo.Dir, Name: "acme/api", Service: "api", TagPattern: gitsrc.DefaultTagPattern})
			if err != nil {
				return err
			}
			_, err = ingest.Run(ctx, src, &ingest.Env{DB: db, Now: time.Now})
			return err
		}, changed: []string{"commits/git/acme/api", "deployments/git/api"}},
		{name: "gate", run: func() error {
			return gate.Record(ctx, db, &gate.Decision{Service: "svc-a", Decision: gate.Go, DecidedAt: time.Now()})
		}, changed: []string{"gate_decisions/gate/"}},
	}
	for _, m := range all.Mappers(cfg, nil) {
		writers = append(writers, writer{name: "mapper " + m.Name(), seed: m.Name(), run: func() error { return m.Map(ctx, db) }})
	}
	for _, w := range writers {
		if w.seed != "" {
			seedEveryTable(t, db, w.seed)
		}
		if _, err := db.Exec(`DELETE FROM ` + canonical.WritesTable); err != nil {
			t.Fatal(err)
		}
		before := digesttest.FromScratch(t, db)
		if err := w.run(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if bad := digesttest.Misdigested(t, db, before); len(bad) > 0 {
			t.Errorf("%s: the stored digests plus the logged changes are not the digests from scratch: %v", w.name, bad)
		}
		now := digesttest.FromScratch(t, db)
		for _, c := range w.changed {
			if before[c].String() == now[c].String() {
				t.Errorf("%s: partition %s did not change: the test no longer exercises it", w.name, c)
			}
		}
		if w.seed != "" && count(t, db, fmt.Sprintf(`SELECT count(*) FROM %s WHERE source = '%s'`, canonical.WritesTable, w.seed)) == 0 {
			t.Errorf("%s logged nothing", w.name)
		}
	}
	// the check itself: a write behind shiplog's back is caught
	if _, err := db.Exec(`DELETE FROM ` + canonical.WritesTable); err != nil {
		t.Fatal(err)
	}
	before := digesttest.FromScratch(t, db)
	if _, err := db.Exec(`UPDATE incidents SET title = 'edited' WHERE id = 'i1'`); err != nil {
		t.Fatal(err)
	}
	if bad := digesttest.Misdigested(t, db, before); len(bad) != 1 || !strings.HasPrefix(bad[0], "incidents/file/svc-b (1:") {
		t.Errorf("an unlogged UPDATE: misdigested partitions %v, want incidents/file/svc-b alone", bad)
	}
}
