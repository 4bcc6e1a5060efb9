package demo

import (
	"fmt"
	"math"
	"sort"
	"time"
)

var (
	categories = []string{"bug", "question", "billing", "feature-request", "account"}
	features   = []string{"express-pay", "saved-carts", "smart-search", "passkeys", "order-tracking", "wishlists",
		"dark-mode", "bulk-export", "live-chat", "gift-wrap", "recommendations-v2", "one-click-reorder", "price-alerts"}
)

// emit writes the repository's commits and changes, then each service's
// records. Support tickets and adoption series are drawn here, straight into
// the sink.
func (g *repoGen) emit(s *sink) {
	for _, c := range g.commits {
		s.emit("commit", c)
	}
	var all []*pr
	for _, st := range g.states {
		all = append(all, st.prs...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a].num < all[b].num })
	for _, p := range all {
		s.emit("change", changeRec{Kind: "change", ID: p.id(), Service: p.svc.id, Repo: p.svc.repo.name, Title: p.title,
			Author: p.author, CommitSHAs: p.commitSHAs, MergeCommitSHA: p.mergeSHA, FirstCommitAt: p.firstCommit,
			OpenedAt: p.opened, FirstReviewAt: p.firstReview, ApprovedAt: p.approved, MergedAt: p.merged,
			Reviewers: p.reviewers, Approvals: p.approvals, IsRevert: p.isRevert, Labels: p.labels})
	}
	for _, st := range g.states {
		g.emitService(s, st)
	}
}

func (g *repoGen) emitService(s *sink, st *svcState) {
	sv := st.svc
	for _, d := range st.deploys {
		rec := deploymentRec{Kind: "deployment", ID: d.id, Service: sv.id, Environment: d.env, FinishedAt: d.finished,
			StartedAt: d.started, Status: d.status, Version: d.version, TriggeredBy: d.triggeredBy,
			IsRollback: d.isRollback, IsHotfix: d.isHotfix,
			URL: fmt.Sprintf("https://ci.%s.example/%s/deployments/%s", orgName, sv.repo.name, d.id)}
		if sv.link != linkTime {
			rec.CommitSHA, rec.PreviousCommitSHA = d.sha, d.prevSHA
		}
		rec.Changes = d.changes
		if d.rollbackOf != nil {
			rec.RollbackOf = d.rollbackOf.id
		}
		if d.hotfixOfDeploy != nil {
			rec.HotfixOf = d.hotfixOfDeploy.id
		} else if d.hotfixOfIncident != nil {
			rec.HotfixOf = d.hotfixOfIncident.id
		}
		if d.cr != nil && d.env == "production" {
			rec.ChangeRequest = d.cr.id
		}
		s.emit("deployment", rec)
	}
	for _, c := range st.crs {
		s.emit("change_request", changeRequestRec{Kind: "change_request", ID: c.id, Services: c.services, Title: c.title,
			Risk: c.risk, RequestedBy: c.requestedBy, CreatedAt: c.created, PlannedStart: c.start, PlannedEnd: c.end,
			Status: c.status, ImplementedAt: c.implemented, ReviewedAfterAt: c.reviewed})
		for _, a := range c.approvals {
			a.Kind, a.ChangeRequest = "approval", c.id
			s.emit("approval", a)
		}
	}
	for _, inc := range st.incidents {
		rec := incidentRec{Kind: "incident", ID: inc.id, Service: sv.id, Severity: inc.severity, Title: inc.title,
			OpenedAt: inc.opened, AcknowledgedAt: inc.acked, ResolvedAt: inc.resolved, RootCauseSHA: inc.rootCauseSHA,
			IsFalsePositive: inc.falsePositive, CustomerImpact: inc.customerImpact}
		if inc.causedBy != nil {
			rec.CausedByDeployment = inc.causedBy.id
		}
		if (inc.severity == "sev1" || inc.severity == "sev2") && !inc.falsePositive && !inc.resolved.IsZero() {
			rec.PostmortemURL = fmt.Sprintf("https://wiki.%s.example/postmortems/%s", orgName, inc.id)
		}
		s.emit("incident", rec)
	}
	g.emitTickets(s, st)
	sort.SliceStable(st.tests, func(a, b int) bool { return st.tests[a].rec.StartedAt.Before(st.tests[b].rec.StartedAt) })
	for i, t := range st.tests {
		rec := t.rec
		rec.ID = fmt.Sprintf("TR-%d", (sv.idx+1)*1000000+i+1)
		rec.Version = t.d.version
		if sv.link != linkTime {
			rec.CommitSHA = g.headAt(t.d.shaAt)
		}
		s.emit("test_run", rec)
	}
	g.emitAdoption(s, st)
	for _, p := range st.plans {
		s.emit("release_plan", p)
	}
}

// emitTickets draws support tickets: a baseline rate per service, more after
// bad releases and after some good ones, linked to incidents they reported.
func (g *repoGen) emitTickets(s *sink, st *svcState) {
	sv := st.svc
	base := []float64{3, 1.5, 0.6}[min(max(sv.tier, 1), 3)-1]
	var times []time.Time
	for day := g.start; day.Before(g.end); day = day.AddDate(0, 0, 1) {
		rate := base
		if isWeekend(day) {
			rate *= 0.5
		}
		for n := poisson(g.r, rate); n > 0; n-- {
			times = append(times, day.Add(between(g.r, 0, 24*time.Hour)))
		}
	}
	for _, rel := range st.releases {
		if rel.final == nil {
			continue
		}
		spike := 0.0
		switch {
		case rel.bad:
			spike = base * 4
		case g.r.Float64() < 0.12:
			spike = base * 1.5
		}
		for n := poisson(g.r, spike); n > 0; n-- {
			u := g.r.Float64()
			times = append(times, rel.final.finished.Add(hours(48*u*u)))
		}
	}
	sort.Slice(times, func(a, b int) bool { return times[a].Before(times[b]) })
	var prod []*deploy
	for _, d := range st.deploys {
		if d.env == "production" && d.status == "success" {
			prod = append(prod, d)
		}
	}
	sort.SliceStable(prod, func(a, b int) bool { return prod[a].finished.Before(prod[b].finished) })
	n := 0
	for _, t := range times {
		t = t.Truncate(time.Second)
		if t.After(g.end) {
			continue
		}
		n++
		rec := supportTicketRec{Kind: "support_ticket", ID: fmt.Sprintf("SUP-%d", (sv.idx+1)*100000+n), Service: sv.id, CreatedAt: t}
		i := sort.Search(len(prod), func(i int) bool { return prod[i].finished.After(t) })
		if i > 0 {
			rec.Version = prod[i-1].version
		}
		rec.Category = pick(g.r, categories)
		rec.Priority = []string{"p1", "p2", "p3", "p4"}[weighted(g.r, 3, 17, 50, 30)]
		for _, inc := range st.incidents {
			if (inc.severity == "sev1" || inc.severity == "sev2") && !inc.falsePositive && !t.Before(inc.opened) &&
				(inc.resolved.IsZero() || t.Before(inc.resolved)) && g.r.Float64() < 0.6 {
				rec.Incident, rec.Category, rec.Priority = inc.id, "outage", "p2"
				break
			}
		}
		if r := t.Add(lognormal(g.r, 18, 1)); !r.After(g.end) {
			rec.ResolvedAt = r
		}
		s.emit("support_ticket", rec)
	}
}

// emitAdoption writes daily active users of features shipped by user-facing
// services: a ramp to a plateau after the release, dipping at weekends.
func (g *repoGen) emitAdoption(s *sink, st *svcState) {
	sv := st.svc
	if !sv.userFacing {
		return
	}
	var good []*release
	for _, rel := range st.releases {
		if rel.final != nil && !rel.bad {
			good = append(good, rel)
		}
	}
	if len(good) == 0 {
		return
	}
	eligible0 := []float64{80000, 40000, 6000}[min(max(sv.tier, 1), 3)-1] * (1 + float64(sv.idx%5)/10)
	seen := map[int]bool{}
	for f, q := range []int{1, 2, 3} {
		i := len(good) * q / 4
		if seen[i] {
			continue
		}
		seen[i] = true
		rel := good[i]
		feature := features[(sv.idx*3+f)%len(features)]
		share := 0.15 + 0.5*g.r.Float64()
		tau := 2 + 12*g.r.Float64()
		first := rel.final.finished.Truncate(24 * time.Hour)
		for d := 0; d <= 90; d++ {
			day := first.AddDate(0, 0, d)
			if day.After(g.end) {
				break
			}
			elig := eligible0 * (1 + 0.001*float64(d))
			wk := 1.0
			if isWeekend(day) {
				wk = 0.75
			}
			act := elig * share * (1 - math.Exp(-float64(d+1)/tau)) * wk * (1 + 0.04*g.r.NormFloat64())
			s.emit("adoption", adoptionRec{Kind: "adoption", Service: sv.id, Feature: feature, Day: day.Format("2006-01-02"),
				ActiveUsers: max(int(math.Round(act)), 0), EligibleUsers: int(math.Round(elig)), Version: rel.version})
		}
	}
}
