package cdevents_test

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest/cdevents"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// keyedConfig maps the pipeline deploy-x to a deployment of svc-x, so
// that pipeline runs whose chain has no service event are deployments.
func keyedConfig() *config.CDEvents {
	return &config.CDEvents{
		Services:        map[string]string{"service/legacy": "svc-a"},
		Environments:    map[string]string{"prod-1": "production", "prod-2": "production"},
		Pipelines:       map[string]config.CDEventsPipeline{"deploy-x": {Service: "svc-x", Environment: "production"}},
		DefaultSeverity: "sev3",
	}
}

// streamGen makes a seeded stream of deliveries: deployments of three
// services (and legacy, another name of svc-a) in two environments (and
// prod-1/prod-2, two names of production), their pipeline runs in the same
// or another chain, configured deploy-x runs, rollbacks, incidents detected,
// reported and resolved (and detected again), changes merged more than once,
// links to changes sent before or after; timestamps on a coarse grid so
// that they tie and arrive out of order; ids reused by a second source;
// events sent twice.
type streamGen struct {
	r    *rand.Rand
	t    testing.TB
	sent []map[string]any
	n    int
}

func (g *streamGen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *streamGen) at() string {
	return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Intn(48)) * 10 * time.Minute).Format(time.RFC3339)
}

func (g *streamGen) chain() any {
	if g.r.Intn(6) == 0 {
		return nil
	}
	return fmt.Sprintf("chain-%d", g.r.Intn(12))
}

func (g *streamGen) event() map[string]any {
	g.n++
	id := fmt.Sprintf("e-%d", g.n)
	if g.r.Intn(6) == 0 && g.n > 1 {
		id = fmt.Sprintf("e-%d", 1+g.r.Intn(g.n-1)) // an id another source used
	}
	src := g.pick("/src/a", "/src/a", "/src/b")
	set := map[string]any{"context.id": id, "context.source": src, "context.timestamp": g.at(), "context.chainId": g.chain(), "context.links": nil}
	links := func() {
		if g.r.Intn(2) == 0 {
			var l []any
			for range 1 + g.r.Intn(2) {
				l = append(l, map[string]any{"linkType": "RELATION", "linkKind": "ARTIFACT", "target": map[string]any{"contextId": fmt.Sprintf("e-%d", 1+g.r.Intn(g.n+5))}})
			}
			set["context.links"] = l
		}
	}
	switch k := g.r.Intn(11); {
	case k < 4:
		set["subject.id"] = "service/" + g.pick("svc-a", "svc-b", "svc-c", "legacy")
		set["subject.content.environment.id"] = g.pick("production", "staging", "prod-1", "prod-2")
		set["subject.content.artifactId"] = fmt.Sprintf("pkg:golang/example.com/acme/app@%07xab", g.r.Intn(1<<20))
		links()
		return spec(g.t, g.pick("service_deployed", "service_deployed", "service_upgraded", "service_rolledback"), set)
	case k < 7:
		set["subject.content.pipelineName"] = g.pick("deploy-x", "deploy-x", "build")
		set["subject.content.outcome"] = g.pick("success", "failure", "error", "cancelled", "unknown")
		set["subject.content.url"] = fmt.Sprintf("https://ci.example/run/%d", g.n)
		return spec(g.t, "pipelinerun_finished", set)
	case k < 9:
		set["subject.id"] = fmt.Sprintf("inc-%d", g.r.Intn(5))
		if g.r.Intn(3) == 0 {
			set["customData"] = map[string]any{"severity": g.pick("sev1", "high", "low")}
		}
		return spec(g.t, g.pick("incident_detected", "incident_reported", "incident_resolved", "incident_resolved"), set)
	default:
		set["subject.id"] = fmt.Sprintf("acme/app#%d", g.r.Intn(6))
		set["subject.content.repository.id"] = "acme/app"
		set["customData"] = map[string]any{"commit_sha": fmt.Sprintf("%040x", g.r.Int63()), "title": id}
		return spec(g.t, "change_merged", set)
	}
}

// delivery returns one to three events, now and then one sent before.
func (g *streamGen) delivery() []map[string]any {
	var out []map[string]any
	for range 1 + g.r.Intn(3) {
		if len(g.sent) > 0 && g.r.Intn(8) == 0 {
			out = append(out, g.sent[g.r.Intn(len(g.sent))])
			continue
		}
		ev := g.event()
		g.sent = append(g.sent, ev)
		out = append(out, ev)
	}
	return out
}

func store(t testing.TB, db *warehouse.DB, src *cdevents.Source, evs []map[string]any) int64 {
	t.Helper()
	var lines []string
	for _, e := range evs {
		lines = append(lines, mustJSON(structured(e)))
	}
	parsed, err := cdevents.ReadLines(strings.NewReader(strings.Join(lines, "\n")), "delivery")
	if err != nil {
		t.Fatal(err)
	}
	keep, _, err := src.Validator().Accepted(parsed)
	if err != nil {
		t.Fatal(err)
	}
	n, err := src.StoreEvents(context.Background(), db, keep)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// allRows returns every column of the source's rows of each canonical
// table, one JSON text per row, sorted: equal lists are equal multisets
// (EXCEPT ALL empty both ways).
func allRows(t testing.TB, db *warehouse.DB) map[string][]string {
	out := map[string][]string{}
	for _, table := range cdevents.Tables {
		out[table] = rows(t, db, `SELECT CAST(to_json(t) AS VARCHAR) AS r FROM (SELECT * FROM `+table+` WHERE source = 'cdevents') t ORDER BY r`)
	}
	return out
}

// exceptAll returns the rows of a missing from b (as a multiset).
func exceptAll(a, b []string) []string {
	left := map[string]int{}
	for _, r := range b {
		left[r]++
	}
	var out []string
	for _, r := range a {
		if left[r] > 0 {
			left[r]--
			continue
		}
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// sameCanonical fails when the canonical rows of keyed and full differ.
func sameCanonical(t *testing.T, step string, keyed, full *warehouse.DB) bool {
	t.Helper()
	k, f := allRows(t, keyed), allRows(t, full)
	ok := true
	for _, table := range cdevents.Tables {
		extra, missing := exceptAll(k[table], f[table]), exceptAll(f[table], k[table])
		if len(extra)+len(missing) > 0 {
			ok = false
			t.Errorf("%s: %s: keyed mapping has %d rows the full one has not, and lacks %d:\n keyed only:\n  %s\n full only:\n  %s",
				step, table, len(extra), len(missing), strings.Join(extra, "\n  "), strings.Join(missing, "\n  "))
		}
	}
	return ok
}

// TestKeyedMappingEqualsFullMapping stores seeded streams of deliveries one
// delivery at a time into two warehouses: one maps only what each delivery
// can change, the other maps every stored event after each (the full
// mapping, Map's). The canonical rows must be equal after every delivery.
func TestKeyedMappingEqualsFullMapping(t *testing.T) {
	made := map[string]int{}
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			keyedDB, fullDB := openDB(t), openDB(t)
			keyed, err := cdevents.New(keyedConfig(), cdevents.WithClock(func() time.Time { return fixedNow }))
			if err != nil {
				t.Fatal(err)
			}
			cdevents.MapKeyed(keyed)
			full, _ := cdevents.New(keyedConfig(), cdevents.WithClock(func() time.Time { return fixedNow }))
			cdevents.MapFull(full)
			g := &streamGen{r: rand.New(rand.NewSource(seed)), t: t}
			var stored, mapped int64
			for i := range 40 {
				d := g.delivery()
				snapDigests(t, keyedDB)
				n := store(t, keyedDB, keyed, d)
				if bad := deltasDisagree(t, keyedDB); bad != "" {
					t.Fatalf("delivery %d: the digests before plus the logged changes are not the digests after: %s", i, bad)
				}
				if m := store(t, fullDB, full, d); m != n {
					t.Fatalf("delivery %d: stored %d and %d events", i, n, m)
				}
				stored += n
				if n > 0 {
					mapped++
				}
				if !sameCanonical(t, fmt.Sprintf("delivery %d", i), keyedDB, fullDB) {
					t.FailNow()
				}
			}
			// The first mapping is full (nothing was mapped before); every
			// other one must have been keyed, or this test proves nothing.
			if got := cdevents.KeyedMappings(keyed); int64(got) != mapped-1 {
				t.Errorf("%d keyed mappings of %d, want %d", got, mapped, mapped-1)
			}
			c := allRows(t, keyedDB)
			for what, q := range map[string]string{
				"rollbacks with rollback_of": `SELECT count(*) FROM deployments WHERE source = 'cdevents' AND rollback_of IS NOT NULL`,
				"pipeline deployments":       `SELECT count(*) FROM deployments WHERE source = 'cdevents' AND service = 'svc-x'`,
				"SOURCE#ID deployments":      `SELECT count(*) FROM deployments WHERE source = 'cdevents' AND id LIKE '/src/%#%'`,
				"deployments with changes":   `SELECT count(*) FROM deployments WHERE source = 'cdevents' AND changes IS NOT NULL`,
				"failed deployments":         `SELECT count(*) FROM deployments WHERE source = 'cdevents' AND status = 'failure'`,
				"resolved incidents":         `SELECT count(*) FROM incidents WHERE source = 'cdevents' AND resolved_at IS NOT NULL`,
			} {
				var n int
				if err := keyedDB.QueryRow(q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				made[what] += n
			}
			t.Logf("%d events stored; %d deployments, %d incidents, %d changes", stored, len(c["deployments"]), len(c["incidents"]), len(c["changes"]))
		})
	}
	// The streams must have made what the keyed mapping has to get right.
	for what, n := range made {
		if n == 0 {
			t.Errorf("the streams made no %s", what)
		}
	}
}

// TestKeyedDeliveriesReachWhatTheyChange stores deliveries one at a time
// with the keyed mapping; each step names the rows a delivery changes
// beyond its own events, worked out by hand from the mapping rules. A key
// closure cut too narrowly leaves one of them as it was.
func TestKeyedDeliveriesReachWhatTheyChange(t *testing.T) {
	dep := func(kind, id, src, svc, at, chain string, links ...string) map[string]any {
		set := map[string]any{"context.id": id, "context.source": src, "context.timestamp": at, "context.chainId": chain,
			"subject.id": "service/" + svc, "subject.content.environment.id": "production",
			"subject.content.artifactId": "pkg:oci/app?tag=1.0", "context.links": nil}
		if chain == "" {
			set["context.chainId"] = nil
		}
		var l []any
		for _, c := range links {
			l = append(l, map[string]any{"linkType": "RELATION", "linkKind": "ARTIFACT", "target": map[string]any{"contextId": c}})
		}
		if l != nil {
			set["context.links"] = l
		}
		return spec(t, kind, set)
	}
	run := func(id, pipeline, outcome, at, chain string) map[string]any {
		return spec(t, "pipelinerun_finished", map[string]any{"context.id": id, "context.source": "/ci", "context.timestamp": at,
			"context.chainId": chain, "subject.content.pipelineName": pipeline, "subject.content.outcome": outcome, "context.links": nil})
	}
	merged := func(id, change, sha, at string) map[string]any {
		return spec(t, "change_merged", map[string]any{"context.id": id, "context.source": "/scm", "context.timestamp": at,
			"context.chainId": nil, "context.links": nil, "subject.id": change, "subject.content.repository.id": "acme/app",
			"customData": map[string]any{"commit_sha": sha}})
	}
	incident := func(kind, id, subject, at string) map[string]any {
		return spec(t, kind, map[string]any{"context.id": id, "context.source": "/mon", "context.timestamp": at,
			"context.chainId": nil, "context.links": nil, "subject.id": subject})
	}
	const depRows = `SELECT id || '|' || service || '|' || status || '|' || coalesce(rollback_of, '-') || '|' ||
		coalesce(array_to_string(changes, ','), '-') || '|' || coalesce(commit_sha, '-') FROM deployments WHERE source = 'cdevents' ORDER BY id`
	const incRows = `SELECT id || '|' || strftime(opened_at, '%H:%M') || '|' || coalesce(strftime(resolved_at, '%H:%M'), '-')
		FROM incidents WHERE source = 'cdevents' ORDER BY id`
	steps := []struct {
		name     string
		events   []map[string]any
		wantDeps []string
		wantIncs []string
	}{
		{"a deployment and a rollback of svc-a",
			[]map[string]any{dep("service_deployed", "a-1", "/cd", "svc-a", "2026-03-01T10:00:00Z", "c1"),
				dep("service_rolledback", "a-3", "/cd", "svc-a", "2026-03-01T12:00:00Z", "c3")},
			[]string{"a-1|svc-a|success|-|-|-", "a-3|svc-a|success|a-1|-|-"}, nil},
		{"a deployment arriving late lands between them: the rollback now undoes it",
			[]map[string]any{dep("service_deployed", "a-2", "/cd", "svc-a", "2026-03-01T11:00:00Z", "c2")},
			[]string{"a-1|svc-a|success|-|-|-", "a-2|svc-a|success|-|-|-", "a-3|svc-a|success|a-2|-|-"}, nil},
		{"the pipeline run of a-2's chain fails it",
			[]map[string]any{run("p-2", "build", "failure", "2026-03-01T11:05:00Z", "c2")},
			[]string{"a-1|svc-a|success|-|-|-", "a-2|svc-a|failure|-|-|-", "a-3|svc-a|success|a-2|-|-"}, nil},
		{"a deploy-x run with no service event in its chain is a deployment of svc-x",
			[]map[string]any{run("x-1", "deploy-x", "success", "2026-03-01T13:00:00Z", "c9")},
			[]string{"a-1|svc-a|success|-|-|-", "a-2|svc-a|failure|-|-|-", "a-3|svc-a|success|a-2|-|-", "x-1|svc-x|success|-|-|-"}, nil},
		{"a service event in that chain makes the run its status instead",
			[]map[string]any{dep("service_deployed", "b-9", "/cd", "svc-b", "2026-03-01T13:01:00Z", "c9")},
			[]string{"a-1|svc-a|success|-|-|-", "a-2|svc-a|failure|-|-|-", "a-3|svc-a|success|a-2|-|-", "b-9|svc-b|success|-|-|-"}, nil},
		{"a deployment linking a change not yet sent",
			[]map[string]any{dep("service_deployed", "b-10", "/cd", "svc-b", "2026-03-01T14:00:00Z", "", "cm-7")},
			[]string{"a-1|svc-a|success|-|-|-", "a-2|svc-a|failure|-|-|-", "a-3|svc-a|success|a-2|-|-", "b-10|svc-b|success|-|-|-", "b-9|svc-b|success|-|-|-"}, nil},
		{"the change arrives: the deployment carries it and its commit",
			[]map[string]any{merged("cm-7", "acme/app#7", "abcdef1", "2026-03-01T13:30:00Z")},
			[]string{"a-1|svc-a|success|-|-|-", "a-2|svc-a|failure|-|-|-", "a-3|svc-a|success|a-2|-|-", "b-10|svc-b|success|-|acme/app#7|abcdef1", "b-9|svc-b|success|-|-|-"}, nil},
		{"a second source uses the id a-1: both become SOURCE#ID, and the rollback follows",
			[]map[string]any{dep("service_deployed", "a-1", "/other", "svc-c", "2026-03-01T09:00:00Z", "")},
			[]string{"/cd#a-1|svc-a|success|-|-|-", "/other#a-1|svc-c|success|-|-|-", "a-2|svc-a|failure|-|-|-", "a-3|svc-a|success|a-2|-|-", "b-10|svc-b|success|-|acme/app#7|abcdef1", "b-9|svc-b|success|-|-|-"}, nil},
		{"an incident detected then resolved",
			[]map[string]any{incident("incident_detected", "i-1", "inc-1", "2026-03-01T15:00:00Z"), incident("incident_resolved", "i-2", "inc-1", "2026-03-01T15:30:00Z")},
			nil, []string{"inc-1|15:00|15:30"}},
		{"detected again later: open again",
			[]map[string]any{incident("incident_detected", "i-3", "inc-1", "2026-03-01T16:00:00Z")},
			nil, []string{"inc-1|15:00|-"}},
	}
	keyedDB, fullDB := openDB(t), openDB(t)
	keyed, _ := cdevents.New(keyedConfig(), cdevents.WithClock(func() time.Time { return fixedNow }))
	cdevents.MapKeyed(keyed)
	full, _ := cdevents.New(keyedConfig(), cdevents.WithClock(func() time.Time { return fixedNow }))
	cdevents.MapFull(full)
	for _, s := range steps {
		store(t, keyedDB, keyed, s.events)
		store(t, fullDB, full, s.events)
		if s.wantDeps != nil {
			check(t, s.name, rows(t, keyedDB, depRows), s.wantDeps)
		}
		if s.wantIncs != nil {
			check(t, s.name, rows(t, keyedDB, incRows), s.wantIncs)
		}
		sameCanonical(t, s.name, keyedDB, fullDB)
	}
	if got, want := cdevents.KeyedMappings(keyed), len(steps)-1; got != want {
		t.Errorf("%d keyed mappings, want %d (all but the first)", got, want)
	}
}

// TestKeyedFallsBackToFullMapping: a keyed mapping is only right over rows
// built by the same rules and settings. After sources.cdevents.services
// changes, the next delivery maps every stored event (the old deployment
// of legacy moves to its new name); a first load maps in full too.
func TestKeyedFallsBackToFullMapping(t *testing.T) {
	db := openDB(t)
	deployed := func(id, svc, at string) map[string]any {
		return spec(t, "service_deployed", map[string]any{"context.id": id, "context.source": "/cd", "context.timestamp": at,
			"context.chainId": nil, "context.links": nil, "subject.id": "service/" + svc, "subject.content.environment.id": "production"})
	}
	first, _ := cdevents.New(keyedConfig())
	store(t, db, first, []map[string]any{deployed("d-1", "legacy", "2026-03-01T10:00:00Z")})
	store(t, db, first, []map[string]any{deployed("d-2", "svc-b", "2026-03-01T11:00:00Z")})
	if got := cdevents.KeyedMappings(first); got != 0 {
		t.Errorf("%d keyed mappings of 1 and then 2 stored events, want 0 (each is more than a tenth of those stored)", got)
	}
	cdevents.MapKeyed(first)
	store(t, db, first, []map[string]any{deployed("d-3", "svc-b", "2026-03-01T12:00:00Z")})
	if got := cdevents.KeyedMappings(first); got != 1 {
		t.Errorf("%d keyed mappings, want 1", got)
	}
	check(t, "before", rows(t, db, `SELECT id || '|' || service FROM deployments WHERE source = 'cdevents' ORDER BY id`),
		[]string{"d-1|svc-a", "d-2|svc-b", "d-3|svc-b"})

	cfg := keyedConfig()
	cfg.Services = map[string]string{"service/legacy": "svc-z"}
	changed, _ := cdevents.New(cfg)
	cdevents.MapKeyed(changed)
	store(t, db, changed, []map[string]any{deployed("d-4", "svc-c", "2026-03-01T13:00:00Z")})
	if got := cdevents.KeyedMappings(changed); got != 0 {
		t.Errorf("%d keyed mappings after the settings changed, want 0", got)
	}
	check(t, "after", rows(t, db, `SELECT id || '|' || service FROM deployments WHERE source = 'cdevents' ORDER BY id`),
		[]string{"d-1|svc-z", "d-2|svc-b", "d-3|svc-b", "d-4|svc-c"})
	store(t, db, changed, []map[string]any{deployed("d-5", "svc-c", "2026-03-01T14:00:00Z")})
	if got := cdevents.KeyedMappings(changed); got != 1 {
		t.Errorf("%d keyed mappings once the rows were rebuilt with the new settings, want 1", got)
	}
}

// cdeventsDigests selects, per canonical table the mapping writes and
// service, the row count and the sum of hash(t) of the source's rows:
// what the transform's change detection stores (canonical.DeltaSQL).
const cdeventsDigests = `SELECT 'deployments' AS "table", service AS part, count(*)::BIGINT AS n, sum(hash(t)::HUGEINT) AS d FROM deployments t WHERE source = 'cdevents' GROUP BY ALL
	UNION ALL SELECT 'incidents', service, count(*), sum(hash(t)::HUGEINT) FROM incidents t WHERE source = 'cdevents' GROUP BY ALL
	UNION ALL SELECT 'changes', service, count(*), sum(hash(t)::HUGEINT) FROM changes t WHERE source = 'cdevents' GROUP BY ALL`

// snapDigests keeps the digests of the source's rows and empties the log
// of canonical writes, before a delivery.
func snapDigests(t testing.TB, db *warehouse.DB) {
	t.Helper()
	for _, q := range []string{`CREATE OR REPLACE TABLE digests_before AS ` + cdeventsDigests, `DELETE FROM canonical_writes`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// deltasDisagree returns the first key whose digest before plus what the
// delivery logged is not its digest now, or "".
func deltasDisagree(t testing.TB, db *warehouse.DB) string {
	t.Helper()
	var bad string
	err := db.QueryRow(`WITH now AS (` + cdeventsDigests + `),
		logged AS (SELECT "table", part, sum("rows")::BIGINT AS n, sum(digest)::HUGEINT AS d FROM canonical_writes WHERE source = 'cdevents' GROUP BY ALL),
		expected AS (SELECT "table", part, sum(n)::BIGINT AS n, sum(d)::HUGEINT AS d FROM (FROM digests_before UNION ALL FROM logged) GROUP BY ALL)
		SELECT coalesce(e."table", w."table") || '/' || coalesce(e.part, w.part) FROM expected e
		FULL JOIN now w ON w."table" = e."table" AND w.part IS NOT DISTINCT FROM e.part
		WHERE coalesce(e.n, 0) <> coalesce(w.n, 0) OR coalesce(e.d, 0) <> coalesce(w.d, 0)
		ORDER BY 1 LIMIT 1`).Scan(&bad)
	if err != nil && err.Error() != "sql: no rows in result set" {
		t.Fatal(err)
	}
	return bad
}
