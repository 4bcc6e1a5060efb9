package demo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

type pr struct {
	svc                                        *service
	seq                                        int // order of creation within the service
	num                                        int
	title, author                              string
	firstCommit, opened, firstReview, approved time.Time
	merged                                     time.Time
	reviewers                                  []string
	approvals                                  int
	commitTimes                                []time.Time
	commitSHAs                                 []string
	mergeSHA                                   string
	isRevert                                   bool
	labels                                     []string
}

func (p *pr) id() string { return fmt.Sprintf("%s#%d", p.svc.repo.name, p.num) }

type deploy struct {
	id                string
	svc               *service
	env               string
	started, finished time.Time
	status            string
	version           string
	shaAt             time.Time // it deploys the main branch head as of this instant
	sha, prevSHA      string
	changes           []string
	triggeredBy       string
	isRollback        bool
	rollbackOf        *deploy
	isHotfix          bool
	hotfixOfDeploy    *deploy
	hotfixOfIncident  *incident
	cr                *changeRequest
}

type changeRequest struct {
	id                  string
	services            []string
	title, risk         string
	requestedBy         string
	created, start, end time.Time
	status              string
	implemented         time.Time
	reviewed            time.Time
	approvals           []approvalRec
}

type incident struct {
	id              string
	svc             *service
	severity, title string
	opened, acked   time.Time
	resolved        time.Time
	causedBy        *deploy
	rootCauseOf     *deploy // root_cause_sha is a commit this deployment shipped
	rootCauseSHA    string
	falsePositive   bool
	customerImpact  string
}

// release is one planned production release: its staging and production
// deployments, the change request covering it and what followed.
type release struct {
	k        int
	at       time.Time
	version  string
	staging  []*deploy
	prod     []*deploy
	final    *deploy // the successful production deployment
	cr       *changeRequest
	inFreeze bool
	bad      bool
	outcome  string
}

type svcState struct {
	svc       *service
	prs       []*pr
	deploys   []*deploy
	releases  []*release
	crs       []*changeRequest
	incidents []*incident
	plans     []releasePlanRec
	tests     []testRun
	// version
	major, minor, patch int
}

type head struct {
	at  time.Time
	sha string
}

// repoGen generates the whole history of one repository and its services.
type repoGen struct {
	o          *org
	rp         *repo
	opts       Options
	r          *rand.Rand
	start, end time.Time
	freezes    []Freeze
	states     []*svcState
	heads      []head
	root       string
	commits    []commitRec
}

func generate(opts Options, s *sink) error {
	o := buildOrg(opts)
	start, end := opts.span()
	used := map[*team]bool{}
	for _, sv := range o.services {
		used[sv.team] = true
	}
	for _, t := range o.teams {
		if used[t] {
			s.emit("team", teamRec{Kind: "team", ID: t.id, Name: t.name, Department: t.dept})
		}
	}
	for _, sv := range o.services {
		s.emit("service", serviceRec{
			Kind: "service", ID: sv.id, Name: sv.name, Team: sv.team.id, Tier: sv.tier,
			Repo: sv.repo.name, Paths: sv.paths, DependsOn: sv.dependsOn,
			ReleaseManagers: sv.team.rms, RollbackAuthority: sv.rollbackAuthority,
			AllowedDeployers: sv.allowedDeployers,
		})
	}
	done := 0
	for _, rp := range o.repos {
		g := &repoGen{o: o, rp: rp, opts: opts, r: newRand(opts.Seed, uint64(rp.idx)+1),
			start: start, end: end, freezes: Freezes(opts)}
		g.run()
		g.emit(s)
		if s.err != nil {
			return s.err
		}
		done += len(rp.services)
		if opts.Progress != nil {
			opts.Progress(done, len(o.services))
		}
	}
	return s.err
}

func (g *repoGen) run() {
	for _, sv := range g.rp.services {
		st := &svcState{svc: sv, major: 1 + g.r.IntN(3), minor: g.r.IntN(20)}
		g.states = append(g.states, st)
		g.pullRequests(st)
	}
	for _, st := range g.states {
		g.releases(st)
	}
	g.numberPRs()
	g.commitGraph()
	for _, st := range g.states {
		g.resolve(st)
		g.noiseIncidents(st)
		g.extraChangeRequests(st)
		g.futurePlans(st)
		g.plantPlans(st)
		g.number(st)
	}
}

// ---------------------------------------------------------------- changes

var (
	verbs   = []string{"Add", "Fix", "Refactor", "Speed up", "Remove", "Harden", "Log", "Retry", "Cache", "Validate", "Migrate", "Document"}
	objects = []string{"request validation", "retry budget", "connection pool", "feature flag", "rate limiter",
		"metrics endpoint", "schema migration", "timeout handling", "error messages", "pagination", "audit log",
		"currency rounding", "session refresh", "search ranking", "cache invalidation", "health check",
		"dependency versions", "batch size", "null handling", "CSV export"}
	labelSet = []string{"feature", "bug", "chore", "dependencies", "performance"}
)

func (g *repoGen) pullRequests(st *svcState) {
	pf := st.svc.team.profile
	for day := g.start.AddDate(0, 0, -10); day.Before(g.end); day = day.AddDate(0, 0, 1) {
		rate := pf.prsPerWeek / 5
		if isWeekend(day) {
			rate *= 0.08
		}
		for n := poisson(g.r, rate); n > 0; n-- {
			fc := day.Add(7*time.Hour + between(g.r, 0, 11*time.Hour))
			if fc.After(g.end) {
				continue
			}
			g.newPR(st, fc)
		}
	}
	g.plantUnreviewed(st)
}

func (g *repoGen) newPR(st *svcState, fc time.Time) *pr {
	pf := st.svc.team.profile
	members := st.svc.team.members()
	p := &pr{svc: st.svc, seq: len(st.prs) + 1, author: pick(g.r, members), firstCommit: fc}
	p.title = pick(g.r, verbs) + " " + pick(g.r, objects)
	p.labels = []string{pick(g.r, labelSet)}
	if g.r.Float64() < 0.03 {
		// Revert an earlier merged change of the service.
		for i := len(st.prs) - 1; i >= 0; i-- {
			q := st.prs[i]
			if !q.merged.IsZero() && q.merged.Before(fc) && !q.isRevert {
				p.title = fmt.Sprintf("Revert %q", q.title)
				p.isRevert = true
				p.labels = []string{"revert"}
				break
			}
		}
	}
	coding := lognormal(g.r, pf.codingH, 0.8)
	if p.isRevert {
		coding = between(g.r, 5*time.Minute, 40*time.Minute)
	}
	p.opened = fc.Add(coding)
	p.firstReview = p.opened.Add(lognormal(g.r, pf.pickupH, 0.9))
	p.approved = p.firstReview
	if g.r.Float64() < 0.6 {
		p.approved = p.firstReview.Add(lognormal(g.r, pf.reviewH, 0.8))
	}
	p.merged = p.approved.Add(between(g.r, 5*time.Minute, 3*time.Hour))
	others := without(members, p.author)
	nrev := 1 + g.r.IntN(2)
	for i := 0; i < nrev && len(others) > 0; i++ {
		j := g.r.IntN(len(others))
		p.reviewers = append(p.reviewers, others[j])
		others = without(others, others[j])
	}
	p.approvals = len(p.reviewers)
	n := 1 + poisson(g.r, 1.2)
	p.commitTimes = []time.Time{fc}
	for i := 1; i < n; i++ {
		var t time.Time
		if i == n-1 && n > 2 {
			t = p.firstReview.Add(between(g.r, 0, p.approved.Sub(p.firstReview)+time.Minute))
		} else {
			t = fc.Add(between(g.r, time.Minute, coding+time.Minute))
		}
		p.commitTimes = append(p.commitTimes, t)
	}
	sort.Slice(p.commitTimes, func(a, b int) bool { return p.commitTimes[a].Before(p.commitTimes[b]) })
	g.clip(p)
	st.prs = append(st.prs, p)
	return p
}

// clip drops whatever of a pull request lies after the end of history: it is
// still open (or unreviewed) when the data stops.
func (g *repoGen) clip(p *pr) {
	for _, t := range []*time.Time{&p.opened, &p.firstReview, &p.approved, &p.merged} {
		if t.After(g.end) {
			*t = time.Time{}
		}
	}
	if p.opened.IsZero() {
		p.firstReview = time.Time{}
	}
	if p.firstReview.IsZero() {
		p.approved, p.reviewers, p.approvals = time.Time{}, nil, 0
	}
	if p.approved.IsZero() {
		p.merged = time.Time{}
		p.approvals = 0
	}
	var keep []time.Time
	for _, t := range p.commitTimes {
		if !t.After(g.end) {
			keep = append(keep, t)
		}
	}
	p.commitTimes = keep
}

func without(list []string, v string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// numberPRs gives pull requests repository-wide numbers in the order they
// were opened (or started, for those not yet opened).
func (g *repoGen) numberPRs() {
	var all []*pr
	for _, st := range g.states {
		all = append(all, st.prs...)
	}
	key := func(p *pr) time.Time {
		if !p.opened.IsZero() {
			return p.opened
		}
		return p.firstCommit
	}
	sort.SliceStable(all, func(a, b int) bool { return key(all[a]).Before(key(all[b])) })
	for i, p := range all {
		p.num = 100 + i + 1
	}
}

// commitGraph replays branch starts and merges in time order: each pull
// request branches from the main head at its first commit and is merged
// back with a merge commit (parents: main head, branch tip).
func (g *repoGen) commitGraph() {
	type ev struct {
		at    time.Time
		merge bool
		p     *pr // nil: a commit pushed straight to the main branch
	}
	var evs []ev
	// Direct pushes to main (lockfile and configuration updates by the team
	// lead) come from their own random stream, so that adding them leaves
	// every other draw, and so every record id, where it was.
	direct := newRand(g.opts.Seed, uint64(g.rp.idx)+1<<32)
	for day := g.start.AddDate(0, 0, -10); day.Before(g.end); day = day.AddDate(0, 0, 1) {
		if !isWeekend(day) && direct.Float64() < 0.12 {
			if t := day.Add(9*time.Hour + between(direct, 0, 9*time.Hour)); !t.After(g.end) {
				evs = append(evs, ev{at: t, merge: true})
			}
		}
	}
	for _, st := range g.states {
		for _, p := range st.prs {
			if len(p.commitTimes) == 0 {
				continue
			}
			evs = append(evs, ev{at: p.firstCommit, p: p})
			if !p.merged.IsZero() {
				evs = append(evs, ev{at: p.merged, merge: true, p: p})
			}
		}
	}
	sort.SliceStable(evs, func(a, b int) bool {
		if !evs[a].at.Equal(evs[b].at) {
			return evs[a].at.Before(evs[b].at)
		}
		if evs[a].merge != evs[b].merge {
			return evs[a].merge
		}
		if evs[a].p == nil || evs[b].p == nil {
			return evs[a].p == nil && evs[b].p != nil
		}
		return evs[a].p.num < evs[b].p.num
	})
	rootAt := g.start.AddDate(-1, 0, 0)
	g.root = newSHA(g.r)
	lead := g.rp.services[0].team.lead
	g.commits = append(g.commits, commitRec{Kind: "commit", SHA: g.root, Repo: g.rp.name, AuthoredAt: rootAt, CommittedAt: rootAt, Author: lead})
	cur := g.root
	for _, e := range evs {
		p := e.p
		if p == nil {
			sha := newSHA(direct)
			g.commits = append(g.commits, commitRec{Kind: "commit", SHA: sha, Repo: g.rp.name, Parents: []string{cur}, AuthoredAt: e.at, CommittedAt: e.at, Author: lead})
			cur = sha
			g.heads = append(g.heads, head{at: e.at, sha: cur})
			continue
		}
		if !e.merge {
			parent := cur
			for _, t := range p.commitTimes {
				sha := newSHA(g.r)
				g.commits = append(g.commits, commitRec{Kind: "commit", SHA: sha, Repo: g.rp.name, Parents: []string{parent}, AuthoredAt: t, CommittedAt: t, Author: p.author})
				p.commitSHAs = append(p.commitSHAs, sha)
				parent = sha
			}
			continue
		}
		p.mergeSHA = newSHA(g.r)
		g.commits = append(g.commits, commitRec{Kind: "commit", SHA: p.mergeSHA, Repo: g.rp.name,
			Parents: []string{cur, p.commitSHAs[len(p.commitSHAs)-1]}, AuthoredAt: p.merged, CommittedAt: p.merged, Author: p.author})
		cur = p.mergeSHA
		g.heads = append(g.heads, head{at: p.merged, sha: cur})
	}
	sort.SliceStable(g.commits, func(a, b int) bool { return g.commits[a].AuthoredAt.Before(g.commits[b].AuthoredAt) })
}

// headAt returns the main branch head at t.
func (g *repoGen) headAt(t time.Time) string {
	i := sort.Search(len(g.heads), func(i int) bool { return g.heads[i].at.After(t) })
	if i == 0 {
		return g.root
	}
	return g.heads[i-1].sha
}

// shipped lists the service's pull requests merged in (from, to].
func shipped(st *svcState, from, to time.Time) []*pr {
	var out []*pr
	for _, p := range st.prs {
		if !p.merged.IsZero() && p.merged.After(from) && !p.merged.After(to) {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].num < out[b].num })
	return out
}
