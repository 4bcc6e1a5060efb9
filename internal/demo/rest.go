package demo

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// resolve turns instants into commits now that the graph exists: each
// deployment's sha, the previous sha of its environment, the changes it
// lists (explicit services), and incidents' root-cause commits.
func (g *repoGen) resolve(st *svcState) {
	sort.SliceStable(st.deploys, func(a, b int) bool { return st.deploys[a].started.Before(st.deploys[b].started) })
	last := map[string]*deploy{}
	prevShaAt := map[*deploy]time.Time{}
	for _, d := range st.deploys {
		sha := g.headAt(d.shaAt)
		var from time.Time
		if p := last[d.env]; p != nil {
			from = p.shaAt
			if st.svc.link == linkGraph {
				d.prevSHA = p.sha
			}
		}
		prevShaAt[d] = from
		switch st.svc.link {
		case linkGraph:
			d.sha = sha
		case linkExplicit:
			d.sha = sha
			if d.status != "cancelled" {
				for _, p := range shipped(st, from, d.shaAt) {
					if st.svc.id == "deploy-runner" {
						// Its pipeline lists merge commits, not pull requests.
						d.changes = append(d.changes, p.mergeSHA)
					} else {
						d.changes = append(d.changes, p.id())
					}
				}
			}
		}
		if d.status == "success" {
			last[d.env] = d
			if d.sha == "" {
				d.sha = sha // kept for test runs; not emitted for time-linked services
			}
		}
	}
	for _, inc := range st.incidents {
		P := inc.rootCauseOf
		if P == nil {
			continue
		}
		prs := shipped(st, prevShaAt[P], P.shaAt)
		if len(prs) == 0 || st.svc.link == linkTime {
			inc.causedBy, inc.rootCauseOf = P, nil
			continue
		}
		inc.rootCauseSHA = pick(g.r, prs).mergeSHA
	}
}

// noiseIncidents adds incidents no release caused: alerts at any hour,
// false positives, and some still open when the history ends.
func (g *repoGen) noiseIncidents(st *svcState) {
	rate := 0.035
	if st.svc.tier == 1 {
		rate = 0.05
	}
	first := true
	for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
		if g.r.Float64() >= rate {
			continue
		}
		inc := &incident{svc: st.svc}
		inc.opened = day.Add(between(g.r, 0, 24*time.Hour))
		inc.severity = []string{"sev1", "sev2", "sev3", "sev4"}[weighted(g.r, 4, 14, 42, 40)]
		inc.title = fmt.Sprintf("%s: %s", st.svc.name, pick(g.r, symptoms))
		g.ackAndImpact(inc)
		med := map[string]float64{"sev1": 2, "sev2": 4, "sev3": 12, "sev4": 48}[inc.severity]
		inc.resolved = inc.opened.Add(lognormal(g.r, med, 0.8))
		if g.r.Float64() < 0.12 {
			inc.falsePositive = true
			inc.customerImpact = ""
			inc.resolved = inc.opened.Add(between(g.r, 10*time.Minute, 90*time.Minute))
		}
		if (inc.severity == "sev3" || inc.severity == "sev4") && g.r.Float64() < 0.06 {
			// Low-severity incidents someone forgot to close.
			inc.resolved = time.Time{}
		}
		if st.svc.id == "search" && first && inc.severity != "sev1" {
			// A long-forgotten incident nobody closed.
			inc.resolved = time.Time{}
			first = false
		}
		if inc.opened.After(g.end) {
			continue
		}
		if inc.resolved.After(g.end) {
			inc.resolved = time.Time{}
		}
		if inc.acked.After(g.end) {
			inc.acked = time.Time{}
		}
		st.incidents = append(st.incidents, inc)
	}
	if st.svc.id == "checkout-api" {
		// Still open when the history ends: the release gate of checkout-api
		// and of the services depending on it says NO-GO.
		inc := &incident{svc: st.svc, severity: "sev2", title: "Checkout API: elevated 5xx rate",
			opened: g.end.Add(-5 * time.Hour).Truncate(time.Minute)}
		g.ackAndImpact(inc)
		st.incidents = append(st.incidents, inc)
	}
}

// extraChangeRequests adds requests in every other status: drafts,
// submitted, rejected, cancelled and approved for after the history ends.
func (g *repoGen) extraChangeRequests(st *svcState) {
	sv := st.svc
	for m := g.start; m.Before(g.end); m = m.AddDate(0, 0, 30) {
		for n := poisson(g.r, 0.7); n > 0; n-- {
			cr := &changeRequest{services: []string{sv.id}, risk: []string{"standard", "normal", "normal"}[g.r.IntN(3)]}
			cr.requestedBy = pick(g.r, sv.team.devs)
			cr.title = fmt.Sprintf("%s %s", pick(g.r, verbs), pick(g.r, objects))
			cr.created = m.Add(between(g.r, 0, 30*24*time.Hour))
			if cr.created.After(g.end.Add(-48 * time.Hour)) {
				continue
			}
			cr.start = cr.created.Add(between(g.r, 48*time.Hour, 10*24*time.Hour))
			cr.end = cr.start.Add(4 * time.Hour)
			peer := pick(g.r, without(append([]string{sv.team.lead}, sv.team.devs...), cr.requestedBy))
			switch weighted(g.r, 20, 20, 25, 20, 15) {
			case 0:
				cr.status = "draft"
			case 1:
				cr.status = "submitted"
			case 2:
				cr.status = "rejected"
				cr.approvals = []approvalRec{{Approver: pick(g.r, g.o.cab), Role: "cab", Decision: "rejected", DecidedAt: cr.created.Add(between(g.r, 4*time.Hour, 40*time.Hour))}}
			case 3:
				cr.status = "cancelled"
			default:
				cr.status = "approved"
				cr.created = g.end.Add(-between(g.r, 24*time.Hour, 5*24*time.Hour))
				cr.start = g.end.Add(between(g.r, 48*time.Hour, 14*24*time.Hour))
				cr.end = cr.start.Add(4 * time.Hour)
				cr.approvals = []approvalRec{
					{Approver: peer, Role: "peer", Decision: "approved", DecidedAt: cr.created.Add(between(g.r, time.Hour, 20*time.Hour))},
					{Approver: sv.team.rms[1], Role: "release_manager", Decision: "approved", DecidedAt: cr.created.Add(between(g.r, 2*time.Hour, 22*time.Hour))},
				}
			}
			st.crs = append(st.crs, cr)
		}
	}
}

// futurePlans schedules the next releases of planned services after the end
// of the history.
func (g *repoGen) futurePlans(st *svcState) {
	if !st.svc.team.profile.planned {
		return
	}
	day := g.end.Truncate(24 * time.Hour).Add(24 * time.Hour)
	for _, d := range []int{9, 23} {
		t := day.AddDate(0, 0, d)
		for isWeekend(t) {
			t = t.AddDate(0, 0, 1)
		}
		st.minor++
		st.patch = 0
		st.plans = append(st.plans, g.plan(st, st.version(), t.Add(time.Duration(st.svc.slotMin)*time.Minute)))
	}
}

// number gives every record of a service its id, in time order.
func (g *repoGen) number(st *svcState) {
	base := (st.svc.idx + 1)
	for i, d := range st.deploys {
		d.id = fmt.Sprintf("deploy-%s-%04d", st.svc.id, i+1)
	}
	sort.SliceStable(st.crs, func(a, b int) bool { return st.crs[a].created.Before(st.crs[b].created) })
	for i, c := range st.crs {
		c.id = fmt.Sprintf("CHG-%d", base*10000+i+1)
	}
	sort.SliceStable(st.incidents, func(a, b int) bool { return st.incidents[a].opened.Before(st.incidents[b].opened) })
	for i, inc := range st.incidents {
		inc.id = fmt.Sprintf("INC-%d", base*10000+i+1)
	}
	sort.SliceStable(st.plans, func(a, b int) bool { return st.plans[a].PlannedAt.Before(st.plans[b].PlannedAt) })
	for i := range st.plans {
		st.plans[i].ID = fmt.Sprintf("RP-%d", base*1000+i+1)
	}
}

// ------------------------------------------------------------------ tests

type suiteDef struct {
	name     string
	tests    int
	required bool
	durS     float64
}

type testRun struct {
	rec testRunRec
	d   *deploy
}

func suitesOf(sv *service) []suiteDef {
	u := 300 + (sv.idx*137)%1200
	return []suiteDef{
		{"unit", u, true, 40 + float64(u)/20},
		{"integration", 40 + (sv.idx*53)%160, true, 240},
		{"e2e", 15 + (sv.idx*29)%45, false, 480},
	}
}

// testRuns records the suites run before a staging deployment; failing
// marks a run that broke the build (an integration suite fails).
func (g *repoGen) testRuns(st *svcState, d *deploy, failing bool) {
	for _, s := range suitesOf(st.svc) {
		n := s.tests + len(st.deploys)/8
		rec := testRunRec{Kind: "test_run", Service: st.svc.id, Framework: st.svc.lang, Suite: s.name, Required: s.required}
		rec.StartedAt = d.started.Add(-between(g.r, 20*time.Minute, 45*time.Minute))
		rec.Tests = n
		rec.Skipped = g.r.IntN(4)
		switch {
		case failing && s.name == "integration":
			rec.Failed = 1 + g.r.IntN(4)
		case s.name == "e2e" && g.r.Float64() < 0.08:
			rec.Failed = 1 + g.r.IntN(2)
		case s.name == "unit" && g.r.Float64() < 0.01:
			rec.Failed = 1
		}
		rec.Passed = n - rec.Failed - rec.Skipped
		rec.DurationS = math.Round(s.durS*(0.8+0.4*g.r.Float64())*10) / 10
		st.tests = append(st.tests, testRun{rec: rec, d: d})
	}
}
