package transform

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// orgGen writes a small organisation and then random rounds of new,
// changed, late and removed rows, as SQL run on two warehouses alike.
// Everything comes from a seeded math/rand, so a failing seed replays.
// newOrgGen returns a generator of an organisation of n services from
// 6 January 2025, seeded.
func newOrgGen(seed int64, n int) *orgGen {
	return &orgGen{r: rand.New(rand.NewSource(seed)), services: n, t0: time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC), head: make([]string, n), depsOf: map[int][]string{}}
}

type orgGen struct {
	r        *rand.Rand
	services int
	t0       time.Time
	nextDep  int
	nextChg  int
	nextInc  int
	nextTix  int
	deps     []string // deployment ids
	depsOf   map[int][]string
	// cross lets new rows reference other services' rows (rounds only,
	// and rarely, so that most rounds rebuild a few services)
	cross   bool
	changes []string // change ids
	incs    []string // incident ids
	head    []string // latest commit sha per service
	commits int
	crs     int
}

func ts(t time.Time) string { return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05") + "+00'" }

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *orgGen) svc(s int) string { return fmt.Sprintf("svc-%d", s) }

// commit appends a commit to service s's history and returns its sha.
func (g *orgGen) commit(s int, at time.Time, out *[]string) string {
	g.commits++
	sha := fmt.Sprintf("%040x", g.commits*7919+s)
	parents := "[]"
	if g.head[s] != "" {
		parents = "[" + q(g.head[s]) + "]"
	}
	*out = append(*out, fmt.Sprintf("INSERT INTO commits (sha, repo, parents, authored_at, committed_at, source) VALUES (%s, %s, %s, %s, %s, 'gen')",
		q(sha), q("org/"+g.svc(s)), parents, ts(at), ts(at)))
	g.head[s] = sha
	return sha
}

// change adds a change merged at `at` with its commit and returns the
// change id and sha.
func (g *orgGen) change(s int, at time.Time, out *[]string) (string, string) {
	sha := g.commit(s, at.Add(-10*time.Minute), out)
	g.nextChg++
	id := fmt.Sprintf("org/%s#%d", g.svc(s), g.nextChg)
	first := at.Add(-time.Duration(1+g.r.Intn(60)) * time.Hour)
	*out = append(*out, fmt.Sprintf(`INSERT INTO changes (id, service, repo, title, author, commit_shas, merge_commit_sha,
		first_commit_at, opened_at, first_review_at, approved_at, merged_at, approvals, is_revert, source)
		VALUES (%s, %s, %s, 'change', %s, [%s], %s, %s, %s, %s, %s, %s, %d, false, 'gen')`,
		q(id), q(g.svc(s)), q("org/"+g.svc(s)), q(fmt.Sprintf("dev-%d", g.r.Intn(5))), q(sha), q(sha),
		ts(first), ts(first.Add(30*time.Minute)), ts(at.Add(-50*time.Minute)), ts(at.Add(-20*time.Minute)), ts(at), g.r.Intn(3)))
	g.changes = append(g.changes, id)
	return id, sha
}

// deploy adds a deployment of service s finishing at `at`, shipping the
// given changes by a random rule.
func (g *orgGen) deploy(s int, at time.Time, ids []string, sha string, out *[]string) string {
	g.nextDep++
	id := fmt.Sprintf("d-%d", g.nextDep)
	env, status := "production", "success"
	switch x := g.r.Intn(20); {
	case x == 0:
		env = "staging"
	case x == 1:
		status = "failure"
	}
	commitSHA, list := "NULL", "NULL"
	switch g.r.Intn(10) {
	case 0, 1, 2, 3, 4, 5:
		if sha != "" {
			commitSHA = q(sha)
		}
	case 6, 7:
		l := make([]string, len(ids))
		for i, c := range ids {
			l[i] = q(c)
		}
		if g.cross && g.r.Intn(6) == 0 && len(g.changes) > 0 {
			// a change of any service (a shared library shipped with it)
			l = append(l, q(g.changes[g.r.Intn(len(g.changes))]))
		}
		list = "[" + strings.Join(l, ", ") + "]"
	}
	rollback, hotfix := "NULL", "NULL"
	if own := g.depsOf[s]; len(own) > 0 {
		switch g.r.Intn(25) {
		case 0:
			rollback = q(own[len(own)-1-g.r.Intn(min(len(own), 3))])
		case 1:
			hotfix = q(own[len(own)-1-g.r.Intn(min(len(own), 3))])
		case 2:
			if g.cross && len(g.incs) > 0 {
				hotfix = q(g.incs[g.r.Intn(len(g.incs))])
			}
		case 3:
			if g.cross {
				// another service's deployment (a release train rolled back)
				rollback = q(g.deps[g.r.Intn(len(g.deps))])
			}
		}
	}
	cr := "NULL"
	if g.crs > 0 && g.r.Intn(4) == 0 {
		cr = q(fmt.Sprintf("CR-%d", 1+g.r.Intn(g.crs)))
	}
	*out = append(*out, fmt.Sprintf(`INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version,
		commit_sha, changes, triggered_by, is_rollback, rollback_of, is_hotfix, hotfix_of, change_request, source)
		VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false, %s, false, %s, %s, 'gen')`,
		q(id), q(g.svc(s)), q(env), ts(at), ts(at.Add(-20*time.Minute)), q(status), q(fmt.Sprintf("v%d", g.nextDep)),
		commitSHA, list, q(fmt.Sprintf("dev-%d", g.r.Intn(5))), rollback, hotfix, cr))
	g.deps = append(g.deps, id)
	g.depsOf[s] = append(g.depsOf[s], id)
	return id
}

func (g *orgGen) incident(s int, at time.Time, shas []string, out *[]string) {
	g.nextInc++
	id := fmt.Sprintf("inc-%d", g.nextInc)
	caused, root := "NULL", "NULL"
	switch g.r.Intn(6) {
	case 0:
		if own := g.depsOf[s]; len(own) > 0 {
			caused = q(own[len(own)-1-g.r.Intn(min(len(own), 5))])
		}
		if g.cross && g.r.Intn(3) == 0 {
			caused = q(g.deps[g.r.Intn(len(g.deps))]) // another service's
		}
	case 1:
		if len(shas) > 0 {
			root = q(shas[g.r.Intn(len(shas))])
		}
		if o := g.r.Intn(g.services); g.cross && g.head[o] != "" && g.r.Intn(3) == 0 {
			root = q(g.head[o]) // another service's latest commit, maybe new
		}
	}
	resolved := "NULL"
	if g.r.Intn(5) > 0 {
		resolved = ts(at.Add(time.Duration(10+g.r.Intn(600)) * time.Minute))
	}
	*out = append(*out, fmt.Sprintf(`INSERT INTO incidents (id, service, severity, title, opened_at, resolved_at,
		caused_by_deployment, root_cause_sha, is_false_positive, source)
		VALUES (%s, %s, %s, 'incident', %s, %s, %s, %s, %v, 'gen')`,
		q(id), q(g.svc(s)), q(fmt.Sprintf("sev%d", 1+g.r.Intn(3))), ts(at), resolved, caused, root, g.r.Intn(10) == 0))
	g.incs = append(g.incs, id)
}

// day writes one day of activity for service s starting at `at`.
func (g *orgGen) day(s int, at time.Time, out *[]string) {
	var ids, shas []string
	n := 1 + g.r.Intn(3)
	for i := 0; i < n; i++ {
		id, sha := g.change(s, at.Add(time.Duration(i+1)*time.Hour), out)
		ids, shas = append(ids, id), append(shas, sha)
	}
	g.deploy(s, at.Add(time.Duration(n+1)*time.Hour), ids, shas[len(shas)-1], out)
	if g.r.Intn(3) == 0 {
		g.incident(s, at.Add(time.Duration(n+1)*time.Hour+time.Duration(g.r.Intn(300))*time.Minute), shas, out)
	}
	if g.r.Intn(2) == 0 {
		g.nextTix++
		*out = append(*out, fmt.Sprintf(`INSERT INTO support_tickets (id, service, created_at, source) VALUES ('t-%d', %s, %s, 'gen')`,
			g.nextTix, q(g.svc(s)), ts(at.Add(time.Duration(g.r.Intn(24*60))*time.Minute))))
	}
}

func (g *orgGen) base(days int) []string {
	var out []string
	for t := 0; t < 3; t++ {
		out = append(out, fmt.Sprintf(`INSERT INTO teams (id, name, department, source) VALUES ('team-%d', 'Team %d', 'dept', 'gen')`, t, t))
	}
	for s := 0; s < g.services; s++ {
		out = append(out, fmt.Sprintf(`INSERT INTO services (id, name, team, tier, repo, source) VALUES (%s, %s, 'team-%d', 1, %s, 'gen')`,
			q(g.svc(s)), q("Service "+g.svc(s)), s%3, q("org/"+g.svc(s))))
	}
	for i := 1; i <= 6; i++ {
		g.crs++
		at := g.t0.Add(time.Duration(i*5*24) * time.Hour)
		out = append(out, fmt.Sprintf(`INSERT INTO change_requests (id, services, title, risk, requested_by, created_at, planned_start, planned_end, status, source)
			VALUES ('CR-%d', [%s], 'cr', %s, 'alice', %s, %s, %s, 'approved', 'gen')`,
			i, q(g.svc(i%g.services)), q([]string{"standard", "normal"}[i%2]), ts(at), ts(at.Add(24*time.Hour)), ts(at.Add(72*time.Hour))))
		out = append(out, fmt.Sprintf(`INSERT INTO approvals (change_request, approver, role, decision, decided_at, source)
			VALUES ('CR-%d', 'bob', 'cab', 'approved', %s, 'gen')`, i, ts(at.Add(time.Duration(g.r.Intn(96))*time.Hour))))
	}
	for d := 0; d < days; d++ {
		for s := 0; s < g.services; s++ {
			if g.r.Intn(3) > 0 {
				g.day(s, g.t0.Add(time.Duration(d*24+s)*time.Hour), &out)
			}
		}
	}
	for s := 0; s < g.services; s++ {
		out = append(out, fmt.Sprintf(`INSERT INTO adoption (service, feature, day, active_users, eligible_users, version, source)
			VALUES (%s, 'f1', DATE '%s', 10, 100, 'v1', 'gen')`, q(g.svc(s)), g.t0.Add(48*time.Hour).Format("2006-01-02")))
	}
	return out
}

// round writes one random round: new days for some services, changed
// rows, late-arriving rows, removed rows.
func (g *orgGen) round(dayFrom int) []string {
	var out []string
	pick := func(l []string) string { return l[g.r.Intn(len(l))] }
	g.cross = g.r.Intn(2) == 0
	for k := g.r.Intn(4); k >= 0; k-- {
		switch g.r.Intn(12) {
		case 0, 1, 2: // one new day for a few services
			for s := 0; s < g.services; s++ {
				if g.r.Intn(3) == 0 {
					g.day(s, g.t0.Add(time.Duration(dayFrom*24+s)*time.Hour), &out)
				}
			}
		case 3: // a deployment changes status or time
			out = append(out, fmt.Sprintf(`UPDATE deployments SET status = CASE WHEN status = 'success' THEN 'failure' ELSE 'success' END WHERE id = %s`, q(pick(g.deps))))
			if g.cross {
				// … or names as rolled back or hotfixed a deployment not
				// yet sent: when it comes (of any service), an old row
				// names a new one
				col := []string{"rollback_of", "hotfix_of"}[g.r.Intn(2)]
				out = append(out, fmt.Sprintf(`UPDATE deployments SET %s = 'd-%d' WHERE id = %s`, col, g.nextDep+1+g.r.Intn(4), q(pick(g.deps))))
			}
		case 4:
			out = append(out, fmt.Sprintf(`UPDATE deployments SET finished_at = finished_at - INTERVAL %d HOUR WHERE id = %s`, 1+g.r.Intn(200), q(pick(g.deps))))
		case 5: // an incident is resolved, reattributed or becomes a false positive
			out = append(out, fmt.Sprintf(`UPDATE incidents SET resolved_at = opened_at + INTERVAL %d MINUTE, is_false_positive = %v WHERE id = %s`,
				5+g.r.Intn(900), g.r.Intn(6) == 0, q(pick(g.incs))))
		case 6: // an incident is blamed on another deployment (maybe another service's)
			out = append(out, fmt.Sprintf(`UPDATE incidents SET caused_by_deployment = %s WHERE id = %s`, q(pick(g.deps)), q(pick(g.incs))))
		case 7: // late-arriving: a day in the past, an incident long ago
			s := g.r.Intn(g.services)
			g.day(s, g.t0.Add(time.Duration(g.r.Intn(dayFrom)*24+12)*time.Hour), &out)
		case 8:
			g.incident(g.r.Intn(g.services), g.t0.Add(time.Duration(g.r.Intn(dayFrom*24))*time.Hour), nil, &out)
		case 9: // removed rows
			out = append(out, fmt.Sprintf(`DELETE FROM deployments WHERE id = %s`, q(pick(g.deps))))
			out = append(out, fmt.Sprintf(`DELETE FROM support_tickets WHERE id = 't-%d'`, 1+g.r.Intn(g.nextTix)))
		case 10: // a change moves, is re-merged, or is listed by another service
			out = append(out, fmt.Sprintf(`UPDATE changes SET merged_at = merged_at - INTERVAL %d HOUR WHERE id = %s`, 1+g.r.Intn(100), q(pick(g.changes))))
			if g.cross {
				out = append(out, fmt.Sprintf(`UPDATE deployments SET changes = [%s], commit_sha = NULL WHERE id = %s`, q(pick(g.changes)), q(pick(g.deps))))
			}
		case 11: // governance: a request rejected, an approval added
			out = append(out, fmt.Sprintf(`UPDATE change_requests SET status = 'rejected' WHERE id = 'CR-%d'`, 1+g.r.Intn(g.crs)))
			out = append(out, fmt.Sprintf(`INSERT INTO approvals (change_request, approver, role, decision, decided_at, source)
				VALUES ('CR-%d', 'carol', 'peer', 'approved', %s, 'gen')`, 1+g.r.Intn(g.crs), ts(g.t0.Add(time.Duration(g.r.Intn(dayFrom*24))*time.Hour))))
		}
	}
	return out
}

// marts lists the tables and views of the marts layer.
func martNames(t *testing.T) []string {
	ms, err := Load(Layers)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.Layer == "marts" {
			out = append(out, m.Name)
		}
	}
	return out
}

// TestIncrementalMatchesFull runs random rounds of appends, updates,
// late-arriving and removed rows on two warehouses: one transformed
// incrementally after each round, one rebuilt fully. Every mart must hold
// the same rows in both (EXCEPT ALL both ways), and the incremental side
// must really have run incrementally in most rounds.
func TestIncrementalMatchesFull(t *testing.T) {
	if testing.Short() {
		t.Skip("several transforms")
	}
	incrementalAtAnyShare(t) // rounds touching most of the 6 services take the wide path
	ctx := context.Background()
	dir := t.TempDir()
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			if seed == 1 {
				// every incremental run narrow (staging rows kept in
				// temporary tables), as a few services of many are
				defer func(n int) { narrowShare = n }(narrowShare)
				narrowShare = 1
			}
			incPath := filepath.Join(dir, fmt.Sprintf("inc-%d.duckdb", seed))
			fullPath := filepath.Join(dir, fmt.Sprintf("full-%d.duckdb", seed))
			inc, err := warehouse.Open(ctx, incPath, warehouse.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer inc.Close()
			g := &orgGen{r: rand.New(rand.NewSource(seed)), services: 6, t0: time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC), head: make([]string, 6), depsOf: map[int][]string{}}
			stmts := g.base(30)
			cfg := config.Default()
			fullRuns, partial := 0, 0
			for round := 0; round <= 5; round++ {
				if round > 0 {
					stmts = g.round(30 + round)
				}
				full, err := warehouse.Open(ctx, fullPath, warehouse.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, db := range []*warehouse.DB{inc, full} {
					for _, s := range stmts {
						if err := execLogged(ctx, db, s); err != nil {
							t.Fatalf("round %d: %v\n%s", round, err, s)
						}
					}
				}
				if err := Run(ctx, full, cfg, Options{Full: true}); err != nil {
					t.Fatalf("round %d: full: %v", round, err)
				}
				full.Close()
				var progress strings.Builder
				if err := Run(ctx, inc, cfg, Options{Progress: &progress}); err != nil {
					t.Fatalf("round %d: incremental: %v\n%s", round, err, progress.String())
				}
				t.Logf("round %d: %d statements; %s", round, len(stmts), strings.SplitN(progress.String(), "\n", 2)[0])
				if strings.Contains(progress.String(), "transform: incremental") && !strings.Contains(progress.String(), "incremental: 6 service(s)") {
					partial++
				}
				if !strings.Contains(progress.String(), "transform: incremental") {
					fullRuns++
					t.Logf("round %d: %s", round, strings.SplitN(progress.String(), "\n", 2)[0])
				}
				compareMarts(t, inc, fullPath, round)
			}
			if fullRuns > 3 || partial < 2 {
				t.Errorf("%d of 6 runs were full rebuilds, %d rebuilt some services only: the incremental path is barely exercised", fullRuns, partial)
			}
		})
	}
}

// compareMarts checks every mart of db against the same mart in the
// warehouse file other, both ways, with EXCEPT ALL (duplicates count).
func compareMarts(t *testing.T, db *warehouse.DB, other string, round int) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "ATTACH "+warehouse.QuoteString(other)+" AS other (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "DETACH other")
	// the canonical tables first: both sides were fed alike
	tables := []string{"deployments", "changes", "commits", "incidents", "support_tickets", "change_requests", "approvals"}
	for _, m := range append(tables, martNames(t)...) {
		var rows, onlyHere, onlyThere int64
		name := warehouse.QuoteIdent(m)
		err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM main.%[1]s),
			(SELECT count(*) FROM (FROM main.%[1]s EXCEPT ALL FROM other.main.%[1]s)),
			(SELECT count(*) FROM (FROM other.main.%[1]s EXCEPT ALL FROM main.%[1]s))`, name)).Scan(&rows, &onlyHere, &onlyThere)
		if err != nil {
			t.Fatalf("round %d: compare %s: %v", round, m, err)
		}
		if onlyHere > 0 || onlyThere > 0 {
			var ex strings.Builder
			r, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT 'incremental' AS side, * FROM (FROM main.%[1]s EXCEPT ALL FROM other.main.%[1]s)
				UNION ALL SELECT 'full', * FROM (FROM other.main.%[1]s EXCEPT ALL FROM main.%[1]s) LIMIT 6`, name))
			if err == nil {
				cols, _ := r.Columns()
				for r.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					_ = r.Scan(ptrs...)
					fmt.Fprintf(&ex, "\n    %v", vals)
				}
				r.Close()
			}
			t.Errorf("round %d: %s (%d rows): %d rows only after the incremental run, %d only after the full one:%s", round, m, rows, onlyHere, onlyThere, ex.String())
		}
	}
}

// The coverage snapshot a transform keeps is what coverage.Load finds in
// the canonical tables at that moment, after a full and after an
// incremental run; a row ingested since is in Load's figures, not in the
// snapshot's (the marts do not have it either).
func TestCoverageSnapshot(t *testing.T) {
	ctx := context.Background()
	db := fileDB(t)
	g := newOrgGen(7, 3)
	exec := func(stmts []string) { execAllLogged(t, db, stmts) }
	deployments := func(c *coverage.Coverage) int64 {
		var n int64
		for _, s := range c.Sources {
			if s.Kind == "deployment" {
				n += s.Rows
			}
		}
		return n
	}
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	check := func(step string, wantSame bool) {
		t.Helper()
		live, err := coverage.Load(ctx, output.DB(db), now, 0)
		if err != nil {
			t.Fatal(err)
		}
		built, err := coverage.LoadBuilt(ctx, output.DB(db), now, 0)
		if err != nil {
			t.Fatal(err)
		}
		if same := reflect.DeepEqual(live, built); same != wantSame {
			t.Errorf("%s: snapshot equal to the tables: %v, want %v (deployments %d live, %d in the snapshot)", step, same, wantSame, deployments(live), deployments(built))
		}
	}
	exec(g.base(5))
	if err := Run(ctx, db, config.Default(), Options{}); err != nil {
		t.Fatal(err)
	}
	check("after the full build", true)
	var day []string
	g.day(1, g.t0.Add(10*24*time.Hour), &day)
	exec(day)
	check("after an ingest", false)
	var progress strings.Builder
	if err := Run(ctx, db, config.Default(), Options{Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "transform: incremental: 1 service(s)") {
		t.Errorf("second run: %s", strings.SplitN(progress.String(), "\n", 2)[0])
	}
	check("after the incremental run", true)
	// A second source: the run refreshes the coverage of the sources
	// whose rows moved, and keeps the others' rows as they were.
	other := func(stmt string) {
		t.Helper()
		exec([]string{stmt})
		check("after writing another source's rows", false)
		if err := Run(ctx, db, config.Default(), Options{}); err != nil {
			t.Fatal(err)
		}
		check("after the run that follows", true)
	}
	at := g.t0.Add(11 * 24 * time.Hour)
	other(fmt.Sprintf(`INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version, source)
		VALUES ('other-1', %s, 'production', %s, %s, 'success', 'v-other-1', 'other')`, q(g.svc(0)), ts(at), ts(at.Add(-time.Hour))))
	other(`DELETE FROM deployments WHERE source = 'gen' AND id = (SELECT max(id) FROM deployments WHERE source = 'gen')`)
	other(`DELETE FROM deployments WHERE source = 'other'`)
}

// TestSourcesAreData: which sources sent a kind, and which sent the most,
// are facts about the data, not settings. A second source that starts
// sending support tickets for one service, then sends more of them than
// the first source ever did, leaves each following run incremental (one
// service), where a changed setting would rebuild everything.
func TestSourcesAreData(t *testing.T) {
	ctx := context.Background()
	db := fileDB(t)
	g := newOrgGen(11, 4)
	exec := func(stmts []string) { execAllLogged(t, db, stmts) }
	exec(g.base(5))
	if err := Run(ctx, db, config.Default(), Options{Full: true}); err != nil {
		t.Fatal(err)
	}
	var gen int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM support_tickets WHERE source = 'gen'`).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	at := g.t0.Add(6 * 24 * time.Hour)
	for _, n := range []int{1, gen + 1} {
		var s []string
		for i := 0; i < n; i++ {
			s = append(s, fmt.Sprintf(`('ci-%d-%d', %s, %s, 'ci')`, n, i, q(g.svc(0)), ts(at.Add(time.Duration(i)*time.Minute))))
		}
		exec([]string{`INSERT INTO support_tickets (id, service, created_at, source) VALUES ` + strings.Join(s, ", ")})
		vals, err := RunValues(ctx, db, config.Default())
		if err != nil {
			t.Fatal(err)
		}
		var progress strings.Builder
		if err := Run(ctx, db, config.Default(), Options{Progress: &progress}); err != nil {
			t.Fatal(err)
		}
		if first := strings.SplitN(progress.String(), "\n", 2)[0]; !strings.Contains(first, "transform: incremental: 1 service(s)") {
			t.Errorf("after %d ticket(s) from a second source (main source %v, %d from the first): %s", n, vals["main_source_support_tickets"], gen, first)
		}
	}
	// the second batch made "ci" the main source: the check above saw it
	var main string
	if err := db.QueryRowContext(ctx, `SELECT source FROM support_tickets GROUP BY source ORDER BY count(*) DESC LIMIT 1`).Scan(&main); err != nil || main != "ci" {
		t.Fatalf("main source %q, %v; want ci", main, err)
	}
}

// TestIncrementalCommitGraph holds the commit graph an incremental run
// reads to what the rebuilt services' walks can reach: the repositories
// holding a commit their deployments or changes name, when those share
// no history with another; else the whole graph. Its last cases hold the
// services rebuilt to the references between deployments, both ways. Each case builds a small
// organisation (one repository per service), adds its rows, and compares
// the incremental run with a full rebuild mart by mart; the progress line
// says which graph was read.
func TestIncrementalCommitGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("several transforms")
	}
	ctx := context.Background()
	defer func(n int) { narrowShare = n }(narrowShare)
	narrowShare = 1 // narrow runs, as a few services of many are
	incrementalAtAnyShare(t)
	deploy := func(g *orgGen, id string, s int, at time.Time, sha, list string) string {
		return fmt.Sprintf(`INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version, commit_sha, changes, source)
			VALUES (%s, %s, 'production', %s, %s, 'success', %s, %s, %s, 'gen')`,
			q(id), q(g.svc(s)), ts(at), ts(at.Add(-20*time.Minute)), q("v-"+id), sha, list)
	}
	// a deployment of service s rolling back the deployment target
	rollbackOf := func(id string, s int, at time.Time, target string) string {
		return fmt.Sprintf(`INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version, rollback_of, source)
			VALUES (%s, 'svc-%d', 'production', %s, %s, 'success', %s, %s, 'gen')`,
			q(id), s, ts(at), ts(at.Add(-20*time.Minute)), q("v-"+id), q(target))
	}
	change := func(g *orgGen, id string, s int, at time.Time, shas string) string {
		return fmt.Sprintf(`INSERT INTO changes (id, service, repo, title, author, commit_shas, merge_commit_sha,
			first_commit_at, opened_at, merged_at, source)
			VALUES (%s, %s, %s, 'change', 'dev-1', %s, NULL, %s, %s, %s, 'gen')`,
			q(id), q(g.svc(s)), q("org/"+g.svc(s)), shas, ts(at.Add(-5*time.Hour)), ts(at.Add(-4*time.Hour)), ts(at))
	}
	// a commit of repo whose parents are given, with a message
	commitIn := func(sha, repo string, parents []string, at time.Time, message string) string {
		l := make([]string, len(parents))
		for i, p := range parents {
			l[i] = q(p)
		}
		return fmt.Sprintf(`INSERT INTO commits (sha, repo, parents, authored_at, committed_at, extra, source) VALUES (%s, %s, [%s], %s, %s, json_object('message', %s), 'gen')`,
			q(sha), q(repo), strings.Join(l, ", "), ts(at), ts(at), q(message))
	}
	cases := []struct {
		name string
		// before the full build and after it; g has written 20 days for
		// four services, so every head is set
		before, after func(g *orgGen, at time.Time) []string
		want          string
		check         string // a count that must be 1 after the run
	}{{
		// svc-0 ships a new commit of svc-1's repository: svc-1's repo
		// changed, so svc-1 (which deploys it) is rebuilt too; both
		// repositories are read
		name: "deployment of another service's commit",
		after: func(g *orgGen, at time.Time) []string {
			var out []string
			sha := g.commit(1, at.Add(-time.Hour), &out)
			return append(out, deploy(g, "x-1", 0, at, q(sha), "NULL"))
		},
		want: "incremental: 2 service(s), 1 repositor(ies) to rebuild, reading the commits of 2 repositor(ies)",
	}, {
		// svc-0 lists a new change carrying a commit of svc-2's repository
		// that says it reverts svc-0's last change: nothing of svc-2
		// changed, but its repository is read for the trailer (without
		// it, the revert and the failure it makes would be missed)
		name: "change carrying another repository's commit",
		before: func(g *orgGen, at time.Time) []string {
			var out []string
			id, reverted := g.change(0, at.Add(-3*time.Hour), &out)
			out = append(out, deploy(g, "x-0", 0, at.Add(-2*time.Hour), "NULL", "["+q(id)+"]"))
			sha := fmt.Sprintf("%040x", 999003)
			out = append(out, commitIn(sha, "org/"+g.svc(2), []string{g.head[2]}, at.Add(-90*time.Minute),
				"Revert it\n\nThis reverts commit "+reverted+"."))
			g.head[2] = sha
			return out
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{
				change(g, "x-c", 0, at.Add(-time.Hour), "["+q(g.head[2])+"]"),
				deploy(g, "x-2", 0, at, "NULL", "['x-c']"),
			}
		},
		want:  "incremental: 1 service(s), 0 repositor(ies) to rebuild, reading the commits of 2 repositor(ies)",
		check: `SELECT count(*) FROM fct_failures WHERE deployment_id = 'x-0' AND reason = 'revert'`,
	}, {
		// svc-3's repository merged svc-2's history before the build;
		// svc-3 deploys again: its walk may go into svc-2's commits, so
		// the whole graph is read
		name: "history shared with an unchanged repository",
		before: func(g *orgGen, at time.Time) []string {
			merge := fmt.Sprintf("%040x", 999001)
			out := []string{commitIn(merge, "org/"+g.svc(3), []string{g.head[3], g.head[2]}, at.Add(-48*time.Hour), "Merge"),
				// (an incident blaming a commit of shared history would
				// rebuild everything: another case)
				`UPDATE incidents SET root_cause_sha = NULL WHERE service = 'svc-3'`}
			g.head[3] = merge
			return append(out, deploy(g, "x-4", 3, at.Add(-47*time.Hour), q(merge), "NULL"))
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{deploy(g, "x-5", 3, at, q(g.head[3]), "NULL")}
		},
		want: "incremental: 1 service(s), 0 repositor(ies) to rebuild, reading the whole commit graph",
	}, {
		// a new commit of svc-1 names a parent of svc-0's repository: a
		// changed repository sharing history rebuilds everything
		name: "changed repository sharing history",
		after: func(g *orgGen, at time.Time) []string {
			sha := fmt.Sprintf("%040x", 999002)
			return []string{commitIn(sha, "org/"+g.svc(1), []string{g.head[1], g.head[0]}, at.Add(-time.Hour), "Merge"),
				deploy(g, "x-6", 1, at, q(sha), "NULL")}
		},
		want: "full rebuild: a changed repository shares commit history with another",
	}, {
		// svc-2's repository held a merge naming, as its second parent, a
		// commit no repository held yet; that commit now arrives in
		// svc-1's repository: another repository's history leads into
		// the changed one (inbound), so everything is rebuilt
		name: "changed repository a merge of another names",
		before: func(g *orgGen, at time.Time) []string {
			y := fmt.Sprintf("%040x", 999008)
			out := []string{commitIn(y, "org/"+g.svc(2), []string{g.head[2], fmt.Sprintf("%040x", 999007)}, at.Add(-48*time.Hour), "Merge")}
			g.head[2] = y
			return out
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{commitIn(fmt.Sprintf("%040x", 999007), "org/"+g.svc(1), []string{g.head[1]}, at.Add(-72*time.Hour), "feature")}
		},
		want: "full rebuild: a changed repository shares commit history with another",
	}, {
		// the same with the commit arriving as the first parent of
		// svc-2's commit (a history sent from its tip first)
		name: "changed repository another's commit continues",
		before: func(g *orgGen, at time.Time) []string {
			y := fmt.Sprintf("%040x", 999010)
			out := []string{commitIn(y, "org/"+g.svc(2), []string{fmt.Sprintf("%040x", 999009)}, at.Add(-48*time.Hour), "fix")}
			g.head[2] = y
			return out
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{commitIn(fmt.Sprintf("%040x", 999009), "org/"+g.svc(1), []string{g.head[1]}, at.Add(-72*time.Hour), "feature")}
		},
		want: "full rebuild: a changed repository shares commit history with another",
	}, {
		// svc-2 deploys a commit svc-3's repository holds too (a
		// mirror): the commit is found in svc-2's own repository and
		// not looked for in others, but the check of that repository's
		// history finds the other copy, so the whole graph is read
		name: "deployment of a commit another repository holds too",
		before: func(g *orgGen, at time.Time) []string {
			x := fmt.Sprintf("%040x", 999004)
			return []string{commitIn(x, "org/"+g.svc(2), []string{g.head[2]}, at.Add(-48*time.Hour), "fix"),
				commitIn(x, "org/"+g.svc(3), []string{g.head[2]}, at.Add(-48*time.Hour), "fix"),
				`UPDATE incidents SET root_cause_sha = NULL WHERE service = 'svc-2'`}
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{deploy(g, "x-7", 2, at, q(fmt.Sprintf("%040x", 999004)), "NULL")}
		},
		want:  "incremental: 1 service(s), 0 repositor(ies) to rebuild, reading the whole commit graph",
		check: `SELECT count(*) FROM fct_deployments WHERE deployment_id = 'x-7' AND service = 'svc-2'`,
	}, {
		// a new incident of svc-1 blames that commit: its repositories
		// share history, so everything is rebuilt
		name: "incident blaming a commit another repository holds too",
		before: func(g *orgGen, at time.Time) []string {
			x := fmt.Sprintf("%040x", 999005)
			return []string{commitIn(x, "org/"+g.svc(1), []string{g.head[1]}, at.Add(-48*time.Hour), "fix"),
				commitIn(x, "org/"+g.svc(2), []string{g.head[1]}, at.Add(-48*time.Hour), "fix"),
				`UPDATE incidents SET root_cause_sha = NULL WHERE service = 'svc-1'`}
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{fmt.Sprintf(`INSERT INTO incidents (id, service, severity, title, opened_at, root_cause_sha, source)
				VALUES ('x-i', 'svc-1', 'sev1', 'incident', %s, %s, 'gen')`, ts(at), q(fmt.Sprintf("%040x", 999005)))}
		},
		want: "full rebuild: a changed incident's root-cause commit lies in history shared across repositories",
	}, {
		// a new deployment of svc-0 rolls back svc-1's last one: svc-1's
		// deployment failed, a row of svc-1 (the reference is probed
		// from the few rows naming a deployment)
		name: "new deployment rolling back another service's",
		before: func(g *orgGen, at time.Time) []string {
			return []string{deploy(g, "x-b", 1, at.Add(-2*time.Hour), q(g.head[1]), "NULL")}
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{rollbackOf("x-r", 0, at, "x-b")}
		},
		want:  "incremental: 2 service(s), 0 repositor(ies) to rebuild",
		check: `SELECT count(*) FROM fct_failures WHERE deployment_id = 'x-b' AND service = 'svc-1' AND reason = 'rollback' AND restored_by_deployment = 'x-r'`,
	}, {
		// a new deployment of svc-0 lists svc-1's change by its merge
		// commit: the change is first deployed there now, a row of svc-1
		// (probed from the ways the set's lists name a change)
		name: "new deployment listing another service's change by its merge commit",
		before: func(g *orgGen, at time.Time) []string {
			return []string{fmt.Sprintf(`INSERT INTO changes (id, service, repo, title, author, merge_commit_sha,
				first_commit_at, opened_at, merged_at, source)
				VALUES ('x-m', 'svc-1', 'org/svc-1', 'change', 'dev-1', %s, %s, %s, %s, 'gen')`,
				q(fmt.Sprintf("%040x", 999006)), ts(at.Add(-5*time.Hour)), ts(at.Add(-4*time.Hour)), ts(at.Add(-3*time.Hour)))}
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{deploy(g, "x-d", 0, at, "NULL", "["+q(fmt.Sprintf("%040x", 999006))+"]")}
		},
		want:  "incremental: 2 service(s), 0 repositor(ies) to rebuild",
		check: `SELECT count(*) FROM fct_changes WHERE change_id = 'x-m' AND deployment_id = 'x-d' AND deployed_service = 'svc-0'`,
	}, {
		// an old deployment of svc-1 rolled back one not sent then; it
		// arrives late, for svc-0: svc-1's old row names svc-0's new one
		// (probed from the ids of the rows named)
		name: "old deployment naming another service's new one",
		before: func(g *orgGen, at time.Time) []string {
			return []string{rollbackOf("x-o", 1, at.Add(-3*time.Hour), "x-n")}
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{deploy(g, "x-n", 0, at.Add(-4*time.Hour), q(g.head[0]), "NULL")}
		},
		want:  "incremental: 2 service(s), 0 repositor(ies) to rebuild",
		check: `SELECT count(*) FROM fct_failures WHERE deployment_id = 'x-n' AND service = 'svc-0' AND reason = 'rollback' AND restored_by_deployment = 'x-o'`,
	}, {
		// a pushing CI (source "a-ci", first by name) sends svc-1's
		// deployment again under svc-0: staging keeps its row, so the
		// deployment leaves svc-1, a row of svc-1 (the id is paired
		// across services from the ids the other sources sent)
		name: "deployment id sent again by another source under another service",
		before: func(g *orgGen, at time.Time) []string {
			return []string{deploy(g, "x-s", 1, at.Add(-2*time.Hour), q(g.head[1]), "NULL")}
		},
		after: func(g *orgGen, at time.Time) []string {
			return []string{strings.Replace(deploy(g, "x-s", 0, at.Add(-2*time.Hour), q(g.head[0]), "NULL"), "'gen')", "'a-ci')", 1)}
		},
		want:  "incremental: 2 service(s), 0 repositor(ies) to rebuild",
		check: `SELECT count(*) FROM fct_deployments WHERE deployment_id = 'x-s' AND service = 'svc-0' AND NOT EXISTS (FROM fct_deployments WHERE service = 'svc-1' AND deployment_id = 'x-s')`,
	}}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			g := &orgGen{r: rand.New(rand.NewSource(int64(40 + i))), services: 4, t0: time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC), head: make([]string, 4), depsOf: map[int][]string{}}
			at := g.t0.Add(30 * 24 * time.Hour)
			stmts := g.base(20)
			for s := range g.head {
				if g.head[s] == "" {
					g.day(s, g.t0, &stmts)
				}
			}
			if c.before != nil {
				stmts = append(stmts, c.before(g, at)...)
			}
			after := c.after(g, at)
			paths := []string{filepath.Join(dir, "inc.duckdb"), filepath.Join(dir, "full.duckdb")}
			for k, path := range paths {
				db, err := warehouse.Open(ctx, path, warehouse.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for round, batch := range [][]string{stmts, after} {
					for _, s := range batch {
						if err := execLogged(ctx, db, s); err != nil {
							t.Fatalf("%v\n%s", err, s)
						}
					}
					var progress strings.Builder
					if err := Run(ctx, db, config.Default(), Options{Progress: &progress, Full: k == 1}); err != nil {
						t.Fatalf("%s: %v\n%s", path, err, progress.String())
					}
					if k == 0 && round == 1 {
						if first := strings.SplitN(progress.String(), "\n", 2)[0]; !strings.Contains(first, c.want) {
							t.Errorf("incremental run: %q, want %q", first, c.want)
						}
					}
				}
				db.Close()
			}
			inc, err := warehouse.Open(ctx, paths[0], warehouse.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer inc.Close()
			compareMarts(t, inc, paths[1], 1)
			if c.check != "" {
				var n int
				if err := inc.QueryRowContext(ctx, c.check).Scan(&n); err != nil || n != 1 {
					t.Errorf("%s: %d, %v; want 1", c.check, n, err)
				}
			}
		})
	}
}

// TestScopedTests: in an incremental run the tests of a mart merged by
// service read the rebuilt services' rows (not_null, accepted_values) and
// every row sharing a key with one of them (unique); a full run reads
// every row. The mart holds rows of service a (rebuilt) and b (kept): a
// duplicate of a kept row's id by a new row is found; faults among kept
// rows alone, which a committed build cannot hold, are left to full runs.
func TestScopedTests(t *testing.T) {
	ctx := context.Background()
	db := fileDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{
		`CREATE TABLE fct_deployments AS SELECT * FROM (VALUES
			('d1', 'a', 'success'), ('d1', 'b', 'success'),  -- new row repeats a kept id
			('d2', 'a', NULL),                               -- new row breaks not_null
			('d3', 'a', 'bogus'),                            -- new row breaks accepted_values
			('d9', 'b', NULL), ('d9', 'b', 'bogus')          -- kept rows only
		) v(deployment_id, service, status)`,
		`CREATE TEMP TABLE inc_services AS SELECT 'a' AS service`,
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	models, err := Load(Layers)
	if err != nil {
		t.Fatal(err)
	}
	var m Model
	for _, x := range models {
		if x.Name == "fct_deployments" {
			m = x
		}
	}
	if m.incrementalKey() != "service" {
		t.Fatalf("fct_deployments is merged by %q; the test needs a mart merged by service", m.incrementalKey())
	}
	m.Tests = []Test{{"unique", "deployment_id"}, {"not_null", "status"}, {"accepted_values", "status: success, failure"}}
	for _, c := range []struct {
		name  string
		scope *plan
		want  map[string]int64 // failing rows (groups) per test kind
	}{
		{"incremental", &plan{mode: "incremental", services: []string{"a"}, narrow: true}, map[string]int64{"unique": 1, "not_null": 1, "accepted_values": 1}},
		// d1 and d9 repeated; d2 and d9 NULL; the values bogus (one group)
		{"incremental, most services", &plan{mode: "incremental", services: []string{"a"}}, map[string]int64{"unique": 2, "not_null": 2, "accepted_values": 1}},
		{"full", nil, map[string]int64{"unique": 2, "not_null": 2, "accepted_values": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			failures, st, err := runTests(ctx, conn, []Model{m}, nil, c.scope)
			if err != nil {
				t.Fatal(err)
			}
			if st.n != 3 {
				t.Errorf("%d tests run, want 3", st.n)
			}
			got := map[string]int64{}
			for _, f := range failures {
				got[f.Test.Kind] = f.Count
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("failing rows %v, want %v (%v)", got, c.want, failures)
			}
		})
	}
}

// incrementalAtAnyShare lets the test's runs rebuild by service however
// many of its few services they touch (fullShare).
func incrementalAtAnyShare(t *testing.T) {
	old := fullShare
	fullShare = [2]int{1, 1}
	t.Cleanup(func() { fullShare = old })
}

// TestMostServicesRebuildFully: a run whose changes reach more than
// fullShare of the services rebuilds everything, and says why; one that
// reaches fewer rebuilds by service.
func TestMostServicesRebuildFully(t *testing.T) {
	if testing.Short() {
		t.Skip("several transforms")
	}
	ctx := context.Background()
	db := fileDB(t)
	g := newOrgGen(11, 6)
	run := func(days []int) string {
		t.Helper()
		var stmts []string
		for _, s := range days {
			g.day(s, g.t0.Add(20*24*time.Hour), &stmts)
		}
		for _, s := range stmts {
			if err := execLogged(ctx, db, s); err != nil {
				t.Fatalf("%v\n%s", err, s)
			}
		}
		var progress strings.Builder
		if err := Run(ctx, db, config.Default(), Options{Progress: &progress}); err != nil {
			t.Fatal(err)
		}
		return strings.SplitN(progress.String(), "\n", 2)[0]
	}
	for _, s := range g.base(10) {
		if err := execLogged(ctx, db, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	run(nil)
	// 4 of 6 is not more than two thirds: by service
	if got, want := run([]int{0, 1, 2, 3}), "transform: incremental: 4 service(s)"; !strings.HasPrefix(got, want) {
		t.Errorf("4 of 6 services changed: %q, want it to start %q", got, want)
	}
	// 5 of 6 is
	if got, want := run([]int{0, 1, 2, 3, 4}), "transform: full rebuild: 5 of 6 services changed"; !strings.HasPrefix(got, want) {
		t.Errorf("5 of 6 services changed: %q, want it to start %q", got, want)
	}
}

// TestScopedRelationships: the tests of a narrow incremental run read the
// rebuilt rows, the rows sharing their keys and the child rows whose
// parent key the merge took away, through views declared `incremental:
// service` too. Service a is rebuilt; b is kept. Parent m_parent loses
// p3 (a's, named by b's kept child row c3) and keeps p2; a's new child
// row c9 names p9, which no parent has. A scope of the fresh rows alone
// would miss c3; the kept row c7, dangling before the run (which a
// committed build cannot hold), is left to full runs.
func TestScopedRelationships(t *testing.T) {
	ctx := context.Background()
	db := fileDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var models []Model
	for _, f := range []struct{ name, text string }{
		{"m_parent.sql", "-- incremental: service\nselect 1"},
		{"m_child.sql", "-- incremental: service\n-- test: relationships(parent_id -> m_parent.id)\nselect 1"},
		{"m_child_view.sql", "-- materialized: view\n-- incremental: service\n-- test: relationships(parent_id -> m_parent.id)\n-- test: not_null(label)\n" +
			"select id, parent_id, upper(label) as label from m_child where id <> 'hidden'"},
	} {
		m, err := parseModel("marts", f.name, f.text)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	if models, err = order(models); err != nil {
		t.Fatal(err)
	}
	if reason := checkModels(models); reason != "" {
		t.Fatal(reason)
	}
	for _, s := range []string{
		`CREATE TABLE m_parent AS SELECT * FROM (VALUES ('p1', 'a'), ('p2', 'b'), ('p3', 'a')) v(id, service)`,
		`CREATE TABLE m_child AS SELECT * FROM (VALUES
			('c1', 'a', 'p1', 'x'), ('c2', 'b', 'p2', 'x'), ('c3', 'b', 'p3', 'x'), ('c7', 'b', 'p7', 'x')) v(id, service, parent_id, label)`,
		`CREATE VIEW m_child_view AS select id, parent_id, upper(label) as label from m_child where id <> 'hidden'`,
		`CREATE TEMP TABLE inc_services AS SELECT 'a' AS service`,
		`CREATE TEMP TABLE fct_incidents (attributed_deployment VARCHAR, service VARCHAR)`,
		`CREATE TEMP TABLE m_parent AS SELECT * FROM (VALUES ('p1', 'a')) v(id, service)`,
		`CREATE TEMP TABLE m_child AS SELECT * FROM (VALUES ('c1', 'a', 'p1', 'x'), ('c9', 'a', 'p9', NULL)) v(id, service, parent_id, label)`,
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	p := plan{mode: "incremental", services: []string{"a"}, narrow: true, models: map[string]Model{}}
	for _, m := range models {
		p.models[m.Name] = m
	}
	if p.gone, err = mergeIncremental(ctx, tx, models, p); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"m_parent.id": 1}; !reflect.DeepEqual(p.gone, want) {
		t.Errorf("gone keys %v, want %v", p.gone, want)
	}
	wrong := p
	wrong.gone = map[string]int64{"m_parent.id": 0} // fresh rows only
	for _, c := range []struct {
		name  string
		scope *plan
		want  map[string]int64 // failing rows per model and test kind
	}{
		// p9 (fresh) and p3 (gone); a's label NULL in the view
		{"incremental", &p, map[string]int64{"m_child relationships": 2, "m_child_view relationships": 2, "m_child_view not_null": 1}},
		{"fresh rows only", &wrong, map[string]int64{"m_child relationships": 1, "m_child_view relationships": 1, "m_child_view not_null": 1}},
		// and p7
		{"full", nil, map[string]int64{"m_child relationships": 3, "m_child_view relationships": 3, "m_child_view not_null": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			failures, st, err := runTests(ctx, tx, models, nil, c.scope)
			if err != nil {
				t.Fatal(err)
			}
			if st.n != 3 {
				t.Errorf("%d tests run, want 3", st.n)
			}
			got := map[string]int64{}
			for _, f := range failures {
				got[f.Model+" "+f.Test.Kind] = f.Count
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("failing rows %v, want %v (%v)", got, c.want, failures)
			}
		})
	}
}

// TestNarrowConstants holds the constants a narrow run names its services
// and repositories with to the rows the subqueries of their temporary
// tables select: a quote in a name, NULLs on either side and an empty
// list included.
func TestNarrowConstants(t *testing.T) {
	db := memDB(t)
	for _, s := range []string{
		`CREATE TEMP TABLE inc_services AS SELECT * FROM (VALUES ('a'), ('o''neil')) v(service)`,
		`CREATE TEMP TABLE inc_graph_repos AS SELECT * FROM (VALUES ('org/a'), (NULL)) v(repo)`,
		`CREATE TABLE rows_ AS SELECT * FROM (VALUES (1, 'a', 'org/a'), (2, 'o''neil', 'org/b'), (3, 'b', NULL), (4, NULL, 'org/c'), (5, 'A', 'org/A')) v(id, service, repo)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(cond string) []int {
		t.Helper()
		rows, err := db.Query("SELECT id FROM rows_ WHERE " + cond + " ORDER BY id")
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		defer rows.Close()
		out := []int{}
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	narrow := plan{narrow: true, services: []string{"a", "o'neil"}, graphRepos: 2}
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := listNarrow(ctx, tx, &narrow); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if want := []string{"org/a"}; !reflect.DeepEqual(narrow.graphRepoList, want) {
		t.Errorf("graph repositories %q, want %q", narrow.graphRepoList, want)
	}
	for _, c := range []struct {
		name, cond string
		want       []int
	}{
		{"narrow services", serviceIn("service", narrow), []int{1, 2}},
		{"wide services", serviceIn("service", plan{}), []int{1, 2}},
		{"graph repositories", inConstants("repo", narrow.graphRepoList), []int{1}},
		{"graph repositories by subquery", "repo IN (SELECT repo FROM temp.inc_graph_repos)", []int{1}},
		{"no repositories", inConstants("repo", []string{}), []int{}},
	} {
		if got := ids(c.cond); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s (%s): rows %v, want %v", c.name, c.cond, got, c.want)
		}
	}
	if got, want := serviceIn("service", narrow), `list_contains(['a', 'o''neil'], service)`; got != want {
		t.Errorf("narrow condition %s, want %s", got, want)
	}
	if got := serviceIn("service", plan{}); !strings.Contains(got, "temp.inc_services") {
		t.Errorf("wide condition %s does not read temp.inc_services", got)
	}
	// the commit graph of a narrow run reads the listed repositories
	m := Model{Name: "int_x", Layer: "intermediate"}
	st, _, partial, _ := incrementalModel(m, sqlrun.Statement{SQL: "SELECT * FROM stg_commits"}, "TEMP TABLE", narrow)
	if want := "SELECT * FROM (SELECT * FROM stg_commits WHERE list_contains(['org/a'], repo))"; st.SQL != want || !partial {
		t.Errorf("narrow graph statement %q (partial %v), want %q", st.SQL, partial, want)
	}
}

// TestInSet: a set of at most maxConstants values is written as
// constants, a larger one as its subquery; both select the rows whose
// value is in the set, NULL never among them.
func TestInSet(t *testing.T) {
	db := memDB(t)
	// values v-1 … v-1001, and rows holding v-1, v-1000, v-1001, v-1002
	// and NULL (ids 1 to 5)
	for _, s := range []string{
		`CREATE TEMP TABLE many AS SELECT 'v-' || i AS v FROM range(1, 1002) r(i)`,
		`INSERT INTO temp.many VALUES (NULL)`,
		`CREATE TABLE rows_ AS SELECT * FROM (VALUES (1, 'v-1'), (2, 'v-1000'), (3, 'v-1001'), (4, 'v-1002'), (5, NULL)) v(id, v)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, c := range []struct {
		name, set string
		subquery  bool
		want      []int
	}{
		{"none", `SELECT v FROM temp.many WHERE false`, false, []int{}},
		{"a few", `SELECT v FROM temp.many WHERE v IN ('v-1', 'v-1001') OR v IS NULL`, false, []int{1, 3}},
		{"maxConstants", `SELECT v FROM temp.many WHERE v IS NULL OR v <> 'v-1001'`, false, []int{1, 2}},
		{"one more", `SELECT v FROM temp.many`, true, []int{1, 2, 3}},
	} {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		cond, err := inSet(ctx, tx, "v", c.set)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := strings.Contains(cond, " IN ("); got != c.subquery {
			t.Errorf("%s: condition %.80s…: subquery %v, want %v", c.name, cond, got, c.subquery)
		}
		rows, err := tx.Query("SELECT id FROM rows_ WHERE " + cond + " ORDER BY id")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := []int{}
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		rows.Close()
		tx.Rollback()
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: rows %v, want %v", c.name, got, c.want)
		}
	}
}
