package demo

import (
	"fmt"
	"sort"
	"time"
)

// schedule returns the production release times of a service: several a day
// for continuous teams, a few a week, weekly or monthly for the others,
// avoiding the in-range freeze.
func (g *repoGen) schedule(st *svcState) []time.Time {
	sv, pf := st.svc, st.svc.team.profile
	var out []time.Time
	slot := time.Duration(sv.slotMin) * time.Minute
	add := func(t time.Time) {
		t = t.Truncate(time.Second)
		if t.After(g.end.Add(-2*time.Hour)) || t.Before(g.start.Add(6*time.Hour)) {
			return
		}
		for _, f := range g.freezes {
			if !t.Before(f.Start.Add(-12*time.Hour)) && t.Before(f.End) {
				return
			}
		}
		out = append(out, t)
	}
	switch pf.name {
	case "elite":
		for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
			if isWeekend(day) {
				continue
			}
			n := poisson(g.r, 1.6)
			if n > 3 {
				n = 3
			}
			for i := 0; i < n; i++ {
				add(day.Add(9*time.Hour + between(g.r, 0, 8*time.Hour)))
			}
		}
	case "high":
		for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
			if !isWeekend(day) && g.r.Float64() < 0.6 {
				add(day.Add(slot + between(g.r, 0, 20*time.Minute)))
			}
		}
	case "medium":
		for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
			if int(day.Weekday()) == sv.weekday && g.r.Float64() < 0.85 {
				add(day.Add(slot + between(g.r, 0, 20*time.Minute)))
			}
		}
	default: // monthly
		for day := g.start.AddDate(0, 0, 3+sv.idx%10); day.Before(g.end); day = day.AddDate(0, 0, 28) {
			d := day
			for isWeekend(d) {
				d = d.AddDate(0, 0, 1)
			}
			add(d.Add(slot + between(g.r, 0, 20*time.Minute)))
		}
	}
	if t, ok := plantFreezeRelease(sv, g.freezes); ok {
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Before(out[b]) })
	// Keep at least an hour between releases.
	var keep []time.Time
	for _, t := range out {
		if len(keep) > 0 && t.Sub(keep[len(keep)-1]) < time.Hour {
			continue
		}
		keep = append(keep, t)
	}
	return keep
}

func (st *svcState) version() string {
	return fmt.Sprintf("%d.%d.%d", st.major, st.minor, st.patch)
}

func (g *repoGen) newDeploy(st *svcState, env string, start time.Time, dur time.Duration, status string) *deploy {
	d := &deploy{svc: st.svc, env: env, started: start.Truncate(time.Second), status: status, version: st.version()}
	d.finished = d.started.Add(dur.Truncate(time.Second))
	st.deploys = append(st.deploys, d)
	return d
}

// deployer is who starts routine production deployments of the service.
func deployer(sv *service) string {
	if sv.team.profile.continuous {
		return deployBot
	}
	return sv.team.rms[0]
}

func (g *repoGen) releases(st *svcState) {
	sv, pf := st.svc, st.svc.team.profile
	times := g.schedule(st)
	var lastProd *deploy
	var blockedUntil time.Time
	for i, T := range times {
		if T.Before(blockedUntil) {
			continue
		}
		next := g.end
		if i+1 < len(times) {
			next = times[i+1]
		}
		k := len(st.releases) + 1
		forced := plantedOutcome(sv.id, k)
		inFreeze := false
		for _, f := range g.freezes {
			if !T.Before(f.Start) && T.Before(f.End) {
				inFreeze, forced = true, "ok"
			}
		}
		slip := time.Duration(0)
		if pf.planned && forced == "" {
			if g.r.Float64() < 0.06 {
				// A planned release that never shipped: its version is skipped.
				st.minor++
				st.patch = 0
				pa := T.Truncate(24 * time.Hour).Add(time.Duration(sv.slotMin)*time.Minute - time.Duration(g.r.IntN(3))*24*time.Hour)
				st.plans = append(st.plans, g.plan(st, st.version(), pa))
				continue
			}
			if g.r.Float64() < 0.4 {
				slip = time.Duration(1+g.r.IntN(4)) * 24 * time.Hour
			}
		}
		st.minor++
		st.patch = 0
		rel := &release{k: k, at: T, version: st.version(), inFreeze: inFreeze, outcome: forced}
		st.releases = append(st.releases, rel)

		// Staging first, with the tests that gate it.
		lead := hours(pf.stagingLeadMinH + g.r.Float64()*(pf.stagingLeadMaxH-pf.stagingLeadMinH))
		S := T.Add(-lead)
		if !plantedNoStaging(sv.id, k) {
			if forced == "" && g.r.Float64() < 0.04 {
				d := g.newDeploy(st, "staging", S, between(g.r, 3*time.Minute, 9*time.Minute), "failure")
				d.shaAt = S
				d.triggeredBy = deployBot
				g.testRuns(st, d, true)
				rel.staging = append(rel.staging, d)
				S = S.Add(between(g.r, 20*time.Minute, 45*time.Minute))
			}
			d := g.newDeploy(st, "staging", S, between(g.r, 4*time.Minute, 15*time.Minute), "success")
			d.shaAt = S
			d.triggeredBy = deployBot
			g.testRuns(st, d, false)
			rel.staging = append(rel.staging, d)
		}
		shaAt := S

		rel.cr = g.releaseCR(st, T)
		at := T
		if forced == "" {
			switch x := g.r.Float64(); {
			case x < 0.05:
				d := g.newDeploy(st, "production", at, between(g.r, 3*time.Minute, 12*time.Minute), "failure")
				rel.prod = append(rel.prod, d)
				at = at.Add(between(g.r, 25*time.Minute, 50*time.Minute))
			case x < 0.07:
				d := g.newDeploy(st, "production", at, between(g.r, time.Minute, 4*time.Minute), "cancelled")
				rel.prod = append(rel.prod, d)
				at = at.Add(between(g.r, 15*time.Minute, 40*time.Minute))
			}
		}
		P := g.newDeploy(st, "production", at, between(g.r, 4*time.Minute, 25*time.Minute), "success")
		rel.prod = append(rel.prod, P)
		rel.final = P
		for _, d := range rel.prod {
			d.shaAt, d.triggeredBy, d.cr = shaAt, deployer(sv), rel.cr
		}
		rel.cr.implemented = P.finished
		if pf.planned {
			pa := T.Truncate(24 * time.Hour).Add(time.Duration(sv.slotMin) * time.Minute).Add(-slip)
			st.plans = append(st.plans, g.plan(st, rel.version, pa))
		}

		outcome := forced
		if outcome == "" && P.finished.Before(g.end.AddDate(0, 0, -7)) && g.r.Float64() < pf.badRate {
			outcome = []string{"rollback", "hotfix", "incident"}[weighted(g.r, 35, 35, 30)]
		}
		if outcome == "rollback" && lastProd == nil {
			outcome = "hotfix"
		}
		prevProd := lastProd
		lastProd = P
		switch outcome {
		case "rollback", "rollback-by-lead":
			rel.bad = true
			inc := g.badIncident(st, P, next, true)
			startAt := P.finished.Add(between(g.r, 20*time.Minute, time.Hour))
			if inc != nil {
				startAt = inc.opened.Add(between(g.r, 10*time.Minute, 40*time.Minute))
			}
			R := g.newDeploy(st, "production", startAt, between(g.r, 3*time.Minute, 10*time.Minute), "success")
			R.version, R.shaAt, R.cr = prevProd.version, prevProd.shaAt, rel.cr
			R.isRollback, R.rollbackOf = true, P
			R.triggeredBy = pick(g.r, append([]string{sv.team.rms[0]}, g.o.sres...))
			if outcome == "rollback-by-lead" {
				R.triggeredBy = sv.team.lead
			}
			if inc != nil {
				inc.resolved = R.finished.Add(between(g.r, 5*time.Minute, 40*time.Minute))
			}
			lastProd = R
			blockedUntil = R.finished.Add(time.Hour)
		case "hotfix", "hotfix-unreviewed", "hotfix-late-review", "hotfix-day5":
			rel.bad = true
			inc := g.badIncident(st, P, next, false)
			H := g.hotfix(st, P, inc, outcome)
			lastProd = H
			blockedUntil = H.finished.Add(time.Hour)
		case "incident":
			rel.bad = true
			inc := g.badIncident(st, P, next, false)
			inc.resolved = inc.opened.Add(between(g.r, 40*time.Minute, 8*time.Hour))
			blockedUntil = inc.opened.Add(30 * time.Minute)
		}
		rel.outcome = outcome
		g.plantRelease(st, rel)
	}
	g.stagingAhead(st)
}

// badIncident opens the incident that follows a bad release. It names the
// deployment, or a commit the deployment shipped, or nothing at all (then
// only its timing, inside the attribution window and before the next
// release, links it). optional lets a rollback happen with no incident.
func (g *repoGen) badIncident(st *svcState, P *deploy, next time.Time, optional bool) *incident {
	if optional && g.r.Float64() < 0.15 {
		return nil
	}
	inc := &incident{svc: st.svc}
	inc.severity = []string{"sev1", "sev2", "sev3"}[weighted(g.r, 15, 65, 20)]
	inc.opened = P.finished.Add(between(g.r, 10*time.Minute, 90*time.Minute))
	attr := weighted(g.r, 40, 20, 40)
	if inc.severity == "sev3" && attr == 2 {
		attr = 0
	}
	if attr == 2 && optional == false && next.Sub(P.finished) > 2*time.Hour {
		// Incident-only failures may surface hours later.
		limit := minTime(next.Add(-15*time.Minute), P.finished.Add(18*time.Hour))
		if g.r.IntN(2) == 0 && limit.Sub(P.finished) > 30*time.Minute {
			inc.opened = P.finished.Add(between(g.r, 15*time.Minute, limit.Sub(P.finished)))
		}
	}
	switch attr {
	case 0:
		inc.causedBy = P
	case 1:
		inc.rootCauseOf = P
	}
	inc.title = fmt.Sprintf("%s: %s", st.svc.name, pick(g.r, symptoms))
	g.ackAndImpact(inc)
	st.incidents = append(st.incidents, inc)
	return inc
}

var symptoms = []string{"elevated 5xx rate", "p99 latency above SLO", "checkout errors", "login failures",
	"stale data served", "queue backlog growing", "memory leak after release", "timeouts to downstream",
	"wrong totals displayed", "job failures"}

func (g *repoGen) ackAndImpact(inc *incident) {
	switch inc.severity {
	case "sev1":
		inc.acked = inc.opened.Add(between(g.r, 2*time.Minute, 12*time.Minute))
		inc.customerImpact = "customers unable to complete key journeys"
	case "sev2":
		inc.acked = inc.opened.Add(between(g.r, 4*time.Minute, 35*time.Minute))
		inc.customerImpact = "degraded experience for a share of customers"
	case "sev3":
		inc.acked = inc.opened.Add(between(g.r, 15*time.Minute, 4*time.Hour))
	default:
		if g.r.IntN(5) > 0 {
			inc.acked = inc.opened.Add(between(g.r, time.Hour, 20*time.Hour))
		}
	}
}

// hotfix merges a fix and ships it through staging to production under an
// emergency change request.
func (g *repoGen) hotfix(st *svcState, P *deploy, inc *incident, outcome string) *deploy {
	sv := st.svc
	t0 := P.finished.Add(30 * time.Minute)
	if inc != nil {
		t0 = inc.opened
	}
	p := &pr{svc: sv, seq: len(st.prs) + 1, author: pick(g.r, sv.team.devs), labels: []string{"hotfix"}}
	p.title = "Hotfix: " + pick(g.r, objects)
	p.firstCommit = t0.Add(between(g.r, 5*time.Minute, 20*time.Minute))
	p.opened = p.firstCommit.Add(between(g.r, 10*time.Minute, 30*time.Minute))
	p.firstReview = p.opened.Add(between(g.r, 5*time.Minute, 20*time.Minute))
	p.approved = p.firstReview
	p.merged = p.approved.Add(between(g.r, 3*time.Minute, 10*time.Minute))
	p.reviewers = []string{pick(g.r, without(sv.team.members(), p.author))}
	p.approvals = 1
	p.commitTimes = []time.Time{p.firstCommit}
	st.prs = append(st.prs, p)

	st.patch++
	cr := &changeRequest{services: []string{sv.id}, risk: "emergency", requestedBy: sv.team.rms[0], status: "implemented"}
	cr.title = fmt.Sprintf("Emergency fix for %s %s", sv.name, P.version)
	cr.created = t0.Add(between(g.r, 3*time.Minute, 8*time.Minute))
	cr.start, cr.end = cr.created, cr.created.Add(4*time.Hour)
	cr.approvals = append(cr.approvals, approvalRec{Approver: sv.team.rms[1], Role: "release_manager", Decision: "approved",
		DecidedAt: cr.created.Add(between(g.r, 3*time.Minute, 8*time.Minute))})
	if sv.tier == 1 {
		cr.approvals = append(cr.approvals, approvalRec{Approver: pick(g.r, g.o.cab), Role: "cab", Decision: "approved",
			DecidedAt: cr.created.Add(between(g.r, 3*time.Minute, 8*time.Minute))})
	}
	st.crs = append(st.crs, cr)

	S := p.merged.Add(between(g.r, 5*time.Minute, 15*time.Minute))
	stg := g.newDeploy(st, "staging", S, between(g.r, 4*time.Minute, 8*time.Minute), "success")
	stg.version = st.version() + "-hotfix"
	stg.shaAt, stg.triggeredBy, stg.isHotfix = S, deployBot, true
	g.testRuns(st, stg, false)
	H := g.newDeploy(st, "production", stg.finished.Add(between(g.r, 10*time.Minute, 25*time.Minute)), between(g.r, 4*time.Minute, 10*time.Minute), "success")
	H.version, H.shaAt, H.triggeredBy, H.cr, H.isHotfix = stg.version, S, deployer(sv), cr, true
	if inc != nil && g.r.Float64() < 0.4 {
		H.hotfixOfIncident = inc
	} else {
		H.hotfixOfDeploy = P
	}
	cr.implemented = H.finished
	switch outcome {
	case "hotfix-unreviewed":
	case "hotfix-late-review":
		cr.reviewed = cr.implemented.Add(8*24*time.Hour + 3*time.Hour)
	case "hotfix-day5":
		cr.reviewed = cr.implemented.Add(4*24*time.Hour + 22*time.Hour)
	default:
		cr.reviewed = cr.implemented.Add(between(g.r, 20*time.Hour, 96*time.Hour))
	}
	if inc != nil {
		inc.resolved = H.finished.Add(between(g.r, 5*time.Minute, 30*time.Minute))
	}
	return H
}

// releaseCR is the change request covering a routine release: pre-approved
// standard for continuous teams, otherwise normal with peer, release
// manager, and for tier 1 CAB and security approvals, all before the window.
func (g *repoGen) releaseCR(st *svcState, T time.Time) *changeRequest {
	sv := st.svc
	cr := &changeRequest{services: []string{sv.id}, status: "implemented"}
	cr.title = fmt.Sprintf("Release %s %s", sv.name, st.version())
	cr.start, cr.end = T.Add(-time.Hour), T.Add(4*time.Hour)
	if sv.team.profile.standardCR {
		cr.risk, cr.requestedBy = "standard", sv.team.rms[0]
		cr.created = T.Add(-between(g.r, 2*time.Hour, 20*time.Hour))
		st.crs = append(st.crs, cr)
		return cr
	}
	cr.risk = "normal"
	cr.requestedBy = pick(g.r, sv.team.devs)
	cr.created = T.Add(-between(g.r, 50*time.Hour, 120*time.Hour))
	peers := without(append([]string{sv.team.lead}, sv.team.devs...), cr.requestedBy)
	cr.approvals = append(cr.approvals,
		approvalRec{Approver: pick(g.r, peers), Role: "peer", Decision: "approved", DecidedAt: cr.created.Add(between(g.r, 2*time.Hour, 20*time.Hour))},
		approvalRec{Approver: sv.team.rms[1], Role: "release_manager", Decision: "approved", DecidedAt: cr.created.Add(between(g.r, 4*time.Hour, 30*time.Hour))})
	if sv.tier == 1 {
		cr.approvals = append(cr.approvals, approvalRec{Approver: pick(g.r, g.o.cab), Role: "cab", Decision: "approved", DecidedAt: cr.created.Add(between(g.r, 20*time.Hour, 40*time.Hour))})
	}
	if sv.tier == 1 || g.r.Float64() < 0.2 {
		cr.approvals = append(cr.approvals, approvalRec{Approver: pick(g.r, g.o.security), Role: "security", Decision: "approved", DecidedAt: cr.created.Add(between(g.r, 6*time.Hour, 30*time.Hour))})
	}
	st.crs = append(st.crs, cr)
	return cr
}

func (g *repoGen) plan(st *svcState, version string, at time.Time) releasePlanRec {
	at = at.Truncate(time.Second)
	return releasePlanRec{Kind: "release_plan", Service: st.svc.id, Version: version, PlannedAt: at,
		WindowStart: at, WindowEnd: at.Add(time.Hour), Environment: "production"}
}

// stagingAhead leaves some services with a newer build on staging than in
// production when the history ends.
func (g *repoGen) stagingAhead(st *svcState) {
	if st.svc.idx%3 != 1 {
		return
	}
	S := g.end.Add(-between(g.r, 6*time.Hour, 60*time.Hour))
	for _, d := range st.deploys {
		if !d.started.Before(S) {
			return
		}
	}
	st.minor++
	st.patch = 0
	d := g.newDeploy(st, "staging", S, between(g.r, 4*time.Minute, 12*time.Minute), "success")
	d.shaAt, d.triggeredBy = S, deployBot
	g.testRuns(st, d, false)
}
