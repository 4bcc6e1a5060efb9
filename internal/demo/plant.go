package demo

import "time"

// Deliberate governance violations, one or more for every control in
// DESIGN.md. They are keyed by service and by the ordinal of the service's
// production release (k, from 1), so they land in the same places whatever
// the random draws around them; README.md lists the resulting ids. A service
// the organisation does not have plants nothing.

// plantedOutcome forces what happens after release k of a service: "ok"
// keeps it clean (no failed attempt, no bad outcome) so that the planted
// finding is the only one; the hotfix and rollback variants force a failure
// recovered in a particular way.
func plantedOutcome(svc string, k int) string {
	switch {
	case svc == "checkout-api" && k == 8:
		return "hotfix-unreviewed" // emergency-without-review: no review at all
	case svc == "checkout-api" && k == 14:
		return "rollback-by-lead" // rollback-authority
	case svc == "web-storefront" && k == 12:
		return "hotfix-late-review" // emergency-without-review: reviewed on day 9
	case svc == "auth" && k == 9:
		return "hotfix-day5" // clean: reviewed after 4 days 22 hours
	}
	if plantedRelease(svc, k) != "" || plantedNoStaging(svc, k) {
		return "ok"
	}
	return ""
}

// plantedRelease names the violation planted on release k of a service.
func plantedRelease(svc string, k int) string {
	switch {
	case svc == "ledger" && k == 6, svc == "api-gateway" && k == 10:
		return "no-change-request"
	case svc == "auth" && k == 4:
		return "approved-after-start"
	case svc == "user-profile" && k == 5:
		return "rejected-change-request"
	case svc == "catalog" && k == 3:
		return "approved-by-requester-only"
	case svc == "reporting" && k == 2:
		return "approved-by-deployer"
	case svc == "search" && k == 7:
		return "after-window"
	case svc == "catalog" && k == 7:
		return "before-window"
	case svc == "payment-gateway" && k == 9:
		return "service-not-in-request"
	case svc == "ledger" && k == 11:
		return "deployer-not-allowed"
	case svc == "reporting" && k == 3:
		return "incident-outside-window"
	}
	return ""
}

// plantedNoStaging: this production version never went through staging.
func plantedNoStaging(svc string, k int) bool { return svc == "api-gateway" && k == 15 }

// plantFreezeRelease adds a release inside the quarter-close freeze.
func plantFreezeRelease(sv *service, fz []Freeze) (time.Time, bool) {
	if sv.id != "web-storefront" || len(fz) == 0 {
		return time.Time{}, false
	}
	return fz[0].Start.Add(10*time.Hour + 30*time.Minute), true
}

func (g *repoGen) plantRelease(st *svcState, rel *release) {
	sv := st.svc
	P := rel.final
	cr := rel.cr
	switch plantedRelease(sv.id, rel.k) {
	case "no-change-request":
		for _, d := range rel.prod {
			d.cr = nil
		}
		st.crs = removeCR(st.crs, cr)
		rel.cr = nil
	case "approved-after-start":
		for i := range cr.approvals {
			cr.approvals[i].DecidedAt = P.started.Add(time.Duration(30+10*i) * time.Minute)
		}
	case "rejected-change-request":
		cr.status = "rejected"
		cr.implemented = time.Time{}
		cr.approvals = []approvalRec{{Approver: g.o.cab[0], Role: "cab", Decision: "rejected", DecidedAt: cr.created.Add(26 * time.Hour)}}
	case "approved-by-requester-only":
		cr.approvals = []approvalRec{{Approver: cr.requestedBy, Role: "peer", Decision: "approved", DecidedAt: cr.created.Add(3 * time.Hour)}}
	case "approved-by-deployer":
		cr.approvals = append(cr.approvals, approvalRec{Approver: P.triggeredBy, Role: "release_manager", Decision: "approved", DecidedAt: cr.created.Add(5 * time.Hour)})
	case "after-window":
		cr.start, cr.end = rel.at.Add(-30*time.Hour), rel.at.Add(-26*time.Hour)
	case "before-window":
		cr.start, cr.end = rel.at.Add(48*time.Hour), rel.at.Add(52*time.Hour)
	case "service-not-in-request":
		cr.services = []string{"checkout-api"}
	case "deployer-not-allowed":
		P.triggeredBy = sv.team.devs[len(sv.team.devs)-1]
	case "incident-outside-window":
		inc := &incident{svc: sv, severity: "sev2", title: sv.name + ": nightly export late"}
		inc.opened = P.finished.Add(30 * time.Hour)
		g.ackAndImpact(inc)
		inc.resolved = inc.opened.Add(3 * time.Hour)
		st.incidents = append(st.incidents, inc)
	}
}

func removeCR(list []*changeRequest, cr *changeRequest) []*changeRequest {
	out := list[:0]
	for _, c := range list {
		if c != cr {
			out = append(out, c)
		}
	}
	return out
}

// plantUnreviewed makes a few merged pull requests go in without an
// approving review by someone other than the author.
func (g *repoGen) plantUnreviewed(st *svcState) {
	var seq int
	var selfReview bool
	switch st.svc.id {
	case "search":
		seq = 20
	case "etl-pipeline":
		seq = 10
	case "user-profile":
		seq, selfReview = 15, true
	default:
		return
	}
	if seq > len(st.prs) {
		return
	}
	p := st.prs[seq-1]
	if p.merged.IsZero() {
		return
	}
	p.firstReview, p.reviewers, p.approvals = time.Time{}, nil, 0
	p.approved = time.Time{}
	if selfReview {
		p.reviewers = []string{p.author}
	}
}

// plantPlans adds colliding release windows (between dependent services and
// between unrelated ones on the same environment), one release planned inside
// the year-end freeze, and an implemented change request that was never
// deployed.
func (g *repoGen) plantPlans(st *svcState) {
	day := g.end.Truncate(24 * time.Hour).Add(24 * time.Hour)
	at := func(days, hour int) time.Time {
		return day.AddDate(0, 0, days).Add(time.Duration(hour) * time.Hour)
	}
	next := func() string {
		st.minor++
		st.patch = 0
		return st.version()
	}
	switch st.svc.id {
	case "ledger":
		st.plans = append(st.plans, g.plan(st, next(), at(31, 10)))
	case "payment-gateway": // depends on ledger
		st.plans = append(st.plans, g.plan(st, next(), at(31, 10).Add(30*time.Minute)))
	case "auth":
		st.plans = append(st.plans, g.plan(st, next(), at(36, 14)))
	case "reporting": // unrelated to auth
		st.plans = append(st.plans, g.plan(st, next(), at(36, 14).Add(20*time.Minute)))
	case "user-profile":
		if len(g.freezes) > 1 {
			t := g.freezes[1].Start.AddDate(0, 0, 3).Add(10 * time.Hour)
			st.plans = append(st.plans, g.plan(st, next(), t))
		}
	case "etl-pipeline":
		t := g.start.AddDate(0, 2, 10).Add(9 * time.Hour)
		if isWeekend(t) {
			t = t.AddDate(0, 0, 2)
		}
		cr := &changeRequest{services: []string{st.svc.id}, title: "Backfill partition tables", risk: "normal",
			requestedBy: st.svc.team.devs[0], created: t.AddDate(0, 0, -3), start: t, end: t.Add(4 * time.Hour),
			status: "implemented", implemented: t.Add(2 * time.Hour)}
		cr.approvals = []approvalRec{
			{Approver: st.svc.team.lead, Role: "peer", Decision: "approved", DecidedAt: cr.created.Add(4 * time.Hour)},
			{Approver: st.svc.team.rms[1], Role: "release_manager", Decision: "approved", DecidedAt: cr.created.Add(20 * time.Hour)},
		}
		st.crs = append(st.crs, cr)
	}
}
