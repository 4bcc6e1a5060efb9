package cdevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/cdevents"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// spec loads a conformance example of the pinned spec (testdata/spec) and
// applies changes given as dotted paths ("context.id", "subject.content.
// environment.id"); a nil value deletes the field.
func spec(t testing.TB, name string, set map[string]any) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "spec", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for path, v := range set {
		parts := strings.Split(path, ".")
		cur := m
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		if v == nil {
			delete(cur, parts[len(parts)-1])
		} else {
			cur[parts[len(parts)-1]] = v
		}
	}
	return m
}

// structured wraps a CDEvent in a structured-mode CloudEvent.
func structured(ev map[string]any) map[string]any {
	c := ev["context"].(map[string]any)
	return map[string]any{"specversion": "1.0", "id": c["id"], "source": c["source"], "type": c["type"],
		"time": c["timestamp"], "subject": ev["subject"].(map[string]any)["id"], "datacontenttype": "application/json", "data": ev}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// scenario is a release of checkout and an incident, built from the spec
// examples; the expected rows below are worked out by hand from it.
//
//	cm-1   change.merged    03-02 10:00  acme/checkout#42, commit 9f2c1e0a7b…, first commit 03-01 08:00
//	dep-1  service.deployed 03-02 11:00  checkout → prod-eu-1 (production), chain-1, tag 1.4.0, links cm-1
//	pr-1   pipelinerun      03-02 11:05  chain-1 success, url …/run/1
//	dep-2  service.upgraded 03-03 09:00  checkout, chain-2, version 1.5.0, purl version 4f1d2c3b9a (a commit)
//	pr-2   pipelinerun      03-03 09:10  chain-2 failure
//	inc-d1 incident.detected 03-03 09:20 incident-123 on myApp (→ checkout), no severity
//	inc-p1 incident.reported 03-03 09:25 incident-123, severity medium, ticket-345
//	dep-3  service.rolledback 03-03 09:30 checkout back to tag 1.4.0
//	inc-r1 incident.resolved 03-03 10:40 incident-123
//	rm-1   service.removed  03-04 08:00  checkout from staging: raw only
//	pr-3   pipelinerun      03-04 12:00  deploy-search (→ search, production), chain-9, error
//	inc-d2 incident.detected 03-04 12:30 incident-456, artifact pkg:oci/search@…, no service
func scenario(t testing.TB) []map[string]any {
	const digest = "pkg:oci/checkout@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427?tag=1.4.0"
	return []map[string]any{
		spec(t, "change_merged", map[string]any{"context.id": "cm-1", "context.source": "/scm/github", "context.timestamp": "2026-03-02T10:00:00Z",
			"subject.id": "acme/checkout#42", "subject.source": "/scm/github", "subject.content.repository.id": "acme/checkout",
			"customData": map[string]any{"commit_sha": "9F2C1E0A7B3D", "title": "Add card retries", "author": "ana", "first_commit_at": "2026-03-01T08:00:00Z"}}),
		spec(t, "service_deployed", map[string]any{"context.id": "dep-1", "context.source": "/argocd/prod", "context.chainId": "chain-1",
			"context.timestamp": "2026-03-02T11:00:00Z", "subject.id": "service/checkout", "subject.content.environment.id": "prod-eu-1",
			"subject.content.artifactId": digest,
			"context.links":              []any{map[string]any{"linkType": "RELATION", "linkKind": "ARTIFACT", "target": map[string]any{"contextId": "cm-1"}}}}),
		spec(t, "pipelinerun_finished", map[string]any{"context.id": "pr-1", "context.source": "/tekton/ci", "context.chainId": "chain-1",
			"context.timestamp": "2026-03-02T11:05:00Z", "subject.content.outcome": "success", "subject.content.url": "https://ci.example/run/1",
			"subject.content.errors": nil}),
		spec(t, "service_upgraded", map[string]any{"context.id": "dep-2", "context.source": "/argocd/prod", "context.chainId": "chain-2",
			"context.timestamp": "2026-03-03T09:00:00Z", "subject.id": "service/checkout", "subject.content.environment.id": "prod-eu-1",
			"subject.content.artifactId": "pkg:golang/example.com/acme/checkout@4f1d2c3b9a", "customData": map[string]any{"version": "1.5.0"}}),
		spec(t, "pipelinerun_finished", map[string]any{"context.id": "pr-2", "context.source": "/tekton/ci", "context.chainId": "chain-2",
			"context.timestamp": "2026-03-03T09:10:00Z", "subject.content.url": "https://ci.example/run/2"}),
		spec(t, "incident_detected", map[string]any{"context.id": "inc-d1", "context.timestamp": "2026-03-03T09:20:00Z"}),
		spec(t, "incident_reported", map[string]any{"context.id": "inc-p1", "context.timestamp": "2026-03-03T09:25:00Z"}),
		spec(t, "service_rolledback", map[string]any{"context.id": "dep-3", "context.source": "/argocd/prod", "context.timestamp": "2026-03-03T09:30:00Z",
			"context.chainId": "chain-3", "subject.id": "service/checkout", "subject.content.environment.id": "prod-eu-1", "subject.content.artifactId": digest}),
		spec(t, "incident_resolved", map[string]any{"context.id": "inc-r1", "context.timestamp": "2026-03-03T10:40:00Z"}),
		spec(t, "service_removed", map[string]any{"context.id": "rm-1", "context.source": "/argocd/staging", "context.timestamp": "2026-03-04T08:00:00Z",
			"subject.id": "service/checkout", "subject.content.environment.id": "staging"}),
		spec(t, "pipelinerun_finished", map[string]any{"context.id": "pr-3", "context.source": "/tekton/ci", "context.chainId": "chain-9",
			"context.timestamp": "2026-03-04T12:00:00Z", "subject.content.pipelineName": "deploy-search", "subject.content.outcome": "error",
			"subject.content.url": "https://ci.example/run/3"}),
		spec(t, "incident_detected", map[string]any{"context.id": "inc-d2", "context.timestamp": "2026-03-04T12:30:00Z", "subject.id": "incident-456",
			"subject.content.service": nil, "subject.content.artifactId": "pkg:oci/search@sha256%3A1111111111111111111111111111111111111111111111111111111111111111",
			"customData": nil, "customDataContentType": nil}),
	}
}

func testConfig() *config.CDEvents {
	return &config.CDEvents{
		Services:        map[string]string{"myApp": "checkout"},
		Environments:    map[string]string{"prod-eu-1": "production"},
		Pipelines:       map[string]config.CDEventsPipeline{"deploy-search": {Service: "search", Environment: "production"}},
		DefaultSeverity: "sev2",
	}
}

// Deployments: id, service, environment, finished, status, version, commit,
// changes, is_rollback, rollback_of, url.
var wantDeployments = []string{
	"dep-1|checkout|production|2026-03-02 11:00:00|success|1.4.0|9f2c1e0a7b3d|[acme/checkout#42]|false|NULL|https://ci.example/run/1",
	"dep-2|checkout|production|2026-03-03 09:00:00|failure|1.5.0|4f1d2c3b9a|NULL|false|NULL|https://ci.example/run/2",
	"dep-3|checkout|production|2026-03-03 09:30:00|success|1.4.0|NULL|NULL|true|dep-2|NULL",
	"pr-3|search|production|2026-03-04 12:00:00|failure|NULL|NULL|NULL|false|NULL|https://ci.example/run/3",
}

// Incidents: id, service, severity, title, opened, resolved, ticket.
var wantIncidents = []string{
	"incident-123|checkout|sev3|Response time above threshold of 100ms|2026-03-03 09:20:00|2026-03-03 10:40:00|https://my-issues.example/incidents/ticket-345",
	"incident-456|search|sev2|Response time above threshold of 100ms|2026-03-04 12:30:00|NULL|NULL",
}

// Changes: id, service, repo, title, author, commits, merge commit, first commit, merged.
var wantChanges = []string{
	"acme/checkout#42|checkout|acme/checkout|Add card retries|ana|[9f2c1e0a7b3d]|9f2c1e0a7b3d|2026-03-01 08:00:00|2026-03-02 10:00:00",
}

func rows(t testing.TB, db *warehouse.DB, query string) []string {
	t.Helper()
	r, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out []string
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ts(col string) string {
	return fmt.Sprintf("strftime(timezone('UTC', %s), '%%Y-%%m-%%d %%H:%%M:%%S')", col)
}

// Canonical returns the rows the tests compare, in the column order of
// the want lists above.
func Canonical(t testing.TB, db *warehouse.DB) map[string][]string {
	return map[string][]string{
		"deployments": rows(t, db, `SELECT id, service, environment, `+ts("finished_at")+`, status, version, commit_sha,
			CASE WHEN changes IS NULL THEN NULL ELSE '[' || array_to_string(changes, ',') || ']' END, is_rollback, rollback_of, url
			FROM deployments WHERE source = 'cdevents' ORDER BY id`),
		"incidents": rows(t, db, `SELECT id, service, severity, title, `+ts("opened_at")+`, `+ts("resolved_at")+`, extra->>'ticket_uri'
			FROM incidents WHERE source = 'cdevents' ORDER BY id`),
		"changes": rows(t, db, `SELECT id, service, repo, title, author, '[' || array_to_string(commit_shas, ',') || ']', merge_commit_sha,
			`+ts("first_commit_at")+`, `+ts("merged_at")+` FROM changes WHERE source = 'cdevents' ORDER BY id`),
	}
}

func check(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func checkScenario(t *testing.T, db *warehouse.DB) {
	t.Helper()
	c := Canonical(t, db)
	check(t, "deployments", c["deployments"], wantDeployments)
	check(t, "incidents", c["incidents"], wantIncidents)
	check(t, "changes", c["changes"], wantChanges)
}

var fixedNow = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func openDB(t testing.TB) *warehouse.DB {
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func writeLines(t testing.TB, lines ...string) string {
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func syncFile(t testing.TB, db *warehouse.DB, path string) (*ingest.RunRecord, error) {
	src, err := cdevents.New(testConfig(), cdevents.WithFiles(path), cdevents.WithClock(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	run := &ingest.RunRecord{Source: cdevents.Name}
	return run, src.Sync(context.Background(), &ingest.Env{DB: db, Run: run, Progress: &bytes.Buffer{}})
}

// TestFileMapsScenario loads the scenario as JSON Lines: structured
// CloudEvents and bare CDEvents mixed, as both are accepted.
func TestFileMapsScenario(t *testing.T) {
	db := openDB(t)
	var lines []string
	for i, ev := range scenario(t) {
		if i%2 == 0 {
			lines = append(lines, mustJSON(structured(ev)))
		} else {
			lines = append(lines, mustJSON(ev))
		}
	}
	// A taskrun event is accepted and left out.
	lines = append(lines, `{"specversion":"1.0","id":"tr-1","source":"/tekton/ci","type":"dev.cdevents.taskrun.started.0.2.0","data":{"context":{}}}`)
	path := writeLines(t, lines...)
	run, err := syncFile(t, db, path)
	if err != nil {
		t.Fatal(err)
	}
	checkScenario(t, db)
	if run.Read != 13 || run.Written != 12 {
		t.Errorf("read/written %d/%d, want 13/12", run.Read, run.Written)
	}
	check(t, "raw", rows(t, db, `SELECT id, origin FROM raw_cdevents WHERE id IN ('rm-1', 'cm-1') ORDER BY id`),
		[]string{"cm-1|" + path + ":1", "rm-1|" + path + ":10"})

	// The same file again: nothing new, nothing changes.
	before := Canonical(t, db)
	run, err = syncFile(t, db, path)
	if err != nil {
		t.Fatal(err)
	}
	if run.Written != 0 {
		t.Errorf("second load wrote %d events, want 0", run.Written)
	}
	after := Canonical(t, db)
	for k := range before {
		check(t, k+" after reload", after[k], before[k])
	}
}

func TestInvalidEventsNameTheFieldAndWriteNothing(t *testing.T) {
	good := mustJSON(structured(spec(t, "service_deployed", map[string]any{"context.id": "ok-1"})))
	tests := []struct {
		name string
		line string
		want []string
	}{
		{"missing environment id", mustJSON(structured(spec(t, "service_deployed", map[string]any{"context.id": "x", "subject.content.environment.id": nil}))),
			[]string{":2:", "subject.content.environment.id: missing", "dev.cdevents.service.deployed.0.2.0"}},
		{"field not in the schema", mustJSON(structured(spec(t, "service_deployed", map[string]any{"context.id": "x", "subject.content.version": "1.2"}))),
			[]string{"subject.content.version: not a field of this event type"}},
		{"bad timestamp", func() string {
			m := structured(spec(t, "incident_detected", map[string]any{"context.id": "x", "context.timestamp": "yesterday"}))
			delete(m, "time")
			return mustJSON(m)
		}(), []string{"context.timestamp:", "date-time"}},
		{"bad ce time", mustJSON(structured(spec(t, "incident_detected", map[string]any{"context.id": "x", "context.timestamp": "yesterday"}))),
			[]string{"time:", `"yesterday" is not an RFC 3339 time`}},
		{"older type version", mustJSON(structured(spec(t, "service_deployed", map[string]any{"context.id": "x", "context.type": "dev.cdevents.service.deployed.0.1.1"}))),
			[]string{"type:", "not of CDEvents spec v0.4.1", "dev.cdevents.service.deployed.0.2.0"}},
		{"not a CDEvent", `{"specversion":"1.0","id":"x","source":"/s","type":"com.example.build","data":{}}`, []string{"type:", "not a CDEvents type"}},
		{"ids differ", func() string {
			m := structured(spec(t, "service_deployed", map[string]any{"context.id": "x"}))
			m["id"] = "y"
			return mustJSON(m)
		}(), []string{"context.id:", `"x" differs from the CloudEvent's "y"`}},
		{"incident without service", mustJSON(structured(spec(t, "incident_detected", map[string]any{"context.id": "x", "subject.content.service": nil, "subject.content.artifactId": nil}))),
			[]string{"subject.content.service: missing"}},
		{"specversion", `{"specversion":"0.3","id":"x","source":"/s","type":"dev.cdevents.service.deployed.0.2.0","data":{}}`, []string{"specversion:", "1.0"}},
		{"not JSON", `{"specversion":`, []string{":2:", "not a JSON object"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			_, err := syncFile(t, db, writeLines(t, good, tc.line))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			check(t, "raw rows", rows(t, db, `SELECT count(*) FROM raw_cdevents`), []string{"0"})
		})
	}
}

func TestParseRequestModes(t *testing.T) {
	ev := spec(t, "service_deployed", map[string]any{"context.id": "b-1"})
	body := mustJSON(ev)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", "b-1")
	h.Set("ce-source", "/event/source/123")
	h.Set("ce-type", "dev.cdevents.service.deployed.0.2.0")
	h.Set("ce-time", "2023-03-20T14:27:05.315384Z")
	got, err := cdevents.ParseRequest(h, []byte(body))
	if err != nil || len(got) != 1 || got[0].Key() != "/event/source/123 b-1" {
		t.Fatalf("binary: %v %v", got, err)
	}
	if err := cdevents.NewValidator().Check(got[0]); err != nil {
		t.Errorf("binary event refused: %v", err)
	}
	h.Del("ce-source")
	if _, err := cdevents.ParseRequest(h, []byte(body)); err == nil || !strings.Contains(err.Error(), "ce-source: missing header") {
		t.Errorf("binary without ce-source: %v", err)
	}
	hs := http.Header{}
	hs.Set("Content-Type", "application/cloudevents-batch+json; charset=utf-8")
	batch := "[" + mustJSON(structured(ev)) + "," + `{"specversion":"1.0","id":"z"}` + "]"
	if _, err := cdevents.ParseRequest(hs, []byte(batch)); err == nil || !strings.Contains(err.Error(), "event 2 of the batch: source: missing") {
		t.Errorf("batch with a bad event: %v", err)
	}
	hs.Set("Content-Type", "text/plain")
	if _, err := cdevents.ParseRequest(hs, []byte(body)); err == nil || !strings.Contains(err.Error(), "Content-Type") {
		t.Errorf("plain text: %v", err)
	}
}

func TestEverySpecExampleIsValid(t *testing.T) {
	v := cdevents.NewValidator()
	entries, _ := os.ReadDir("testdata/spec")
	if len(entries) != len(cdevents.Types) {
		t.Errorf("%d spec examples for %d types", len(entries), len(cdevents.Types))
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		m := spec(t, name, nil)
		evs, err := cdevents.ReadLines(strings.NewReader(mustJSON(m)), name)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Check(evs[0]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
