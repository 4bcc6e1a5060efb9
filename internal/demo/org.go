package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// profile is how a team works: how often it merges and releases, how fast
// reviews go and how often a release goes wrong. Profiles differ so that the
// DORA tiers of the teams differ.
type profile struct {
	name            string
	prsPerWeek      float64 // merged pull requests per service and week
	codingH         float64 // median hours first commit → opened
	pickupH         float64 // median hours opened → first review
	reviewH         float64 // median hours first review → approved
	continuous      bool    // the pipeline deploys (deploy-bot) rather than a release manager
	standardCR      bool    // routine releases use pre-approved standard change requests
	badRate         float64 // share of production releases that go wrong
	stagingLeadMinH float64 // staging precedes production by this many hours at least
	stagingLeadMaxH float64
	devs            int
	planned         bool // releases follow release plans
}

var profiles = map[string]*profile{
	"elite":  {name: "elite", prsPerWeek: 8, codingH: 3, pickupH: 0.8, reviewH: 1.5, continuous: true, standardCR: true, badRate: 0.04, stagingLeadMinH: 0.3, stagingLeadMaxH: 2, devs: 5},
	"high":   {name: "high", prsPerWeek: 5, codingH: 8, pickupH: 3, reviewH: 4, continuous: true, badRate: 0.09, stagingLeadMinH: 1, stagingLeadMaxH: 8, devs: 4, planned: false},
	"medium": {name: "medium", prsPerWeek: 3.5, codingH: 20, pickupH: 10, reviewH: 10, badRate: 0.15, stagingLeadMinH: 4, stagingLeadMaxH: 30, devs: 4, planned: true},
	"low":    {name: "low", prsPerWeek: 2, codingH: 40, pickupH: 22, reviewH: 20, badRate: 0.3, stagingLeadMinH: 24, stagingLeadMaxH: 96, devs: 3, planned: true},
}

// linkMode is how a service's deployments say what they shipped, so that all
// three linking rules of DESIGN.md are exercised.
type linkMode int

const (
	linkGraph    linkMode = iota // commit_sha and previous_commit_sha
	linkExplicit                 // changes listed, plus commit_sha
	linkTime                     // no sha at all: only time links changes
)

type team struct {
	idx     int
	id      string
	name    string
	dept    string
	profile *profile
	lead    string
	rms     []string // release managers (two)
	devs    []string
}

// members returns everyone who writes and reviews code in the team.
func (t *team) members() []string {
	m := append([]string{t.lead}, t.rms...)
	return append(m, t.devs...)
}

type service struct {
	idx        int
	id, name   string
	team       *team
	tier       int
	repo       *repo
	paths      []string
	dependsOn  []string
	lang       string // go, junit, pytest, jest: decides the test framework
	userFacing bool
	link       linkMode
	slotMin    int // minute of the day of its planned releases (UTC)
	weekday    int // release weekday for weekly cadences (1 = Monday)
	base       bool

	rollbackAuthority []string
	allowedDeployers  []string
}

type repo struct {
	idx      int
	name     string // org/name
	services []*service
}

type org struct {
	teams    []*team
	services []*service
	repos    []*repo
	sres     []string
	cab      []string
	security []string
}

const (
	orgName   = "acme"
	deployBot = "deploy-bot"
)

var baseTeams = []struct{ id, name, dept, profile string }{
	{"payments", "Payments", "Commerce", "elite"},
	{"storefront", "Storefront", "Commerce", "high"},
	{"platform", "Platform", "Infrastructure", "high"},
	{"identity", "Identity", "Infrastructure", "medium"},
	{"data", "Data Engineering", "Data", "low"},
}

var baseServices = []struct {
	id, name, team string
	tier           int
	repo           string
	path           string
	deps           []string
	lang           string
	userFacing     bool
	link           linkMode
}{
	{"checkout-api", "Checkout API", "payments", 1, "payments", "services/checkout/**", []string{"payment-gateway", "auth", "catalog"}, "go", true, linkGraph},
	{"payment-gateway", "Payment Gateway", "payments", 1, "payments", "services/gateway/**", []string{"ledger"}, "go", false, linkExplicit},
	{"ledger", "Ledger", "payments", 1, "ledger", "", nil, "junit", false, linkExplicit},
	{"web-storefront", "Web Storefront", "storefront", 2, "commerce", "apps/web/**", []string{"checkout-api", "catalog", "search"}, "jest", true, linkGraph},
	{"catalog", "Catalog", "storefront", 2, "commerce", "services/catalog/**", nil, "go", false, linkGraph},
	{"search", "Search", "storefront", 2, "commerce", "services/search/**", []string{"catalog"}, "pytest", true, linkTime},
	{"api-gateway", "API Gateway", "platform", 1, "api-gateway", "", []string{"auth"}, "go", false, linkGraph},
	{"deploy-runner", "Deploy Runner", "platform", 3, "deploy-runner", "", nil, "go", false, linkExplicit},
	{"auth", "Auth", "identity", 1, "auth", "", nil, "junit", false, linkGraph},
	{"user-profile", "User Profile", "identity", 2, "user-profile", "", []string{"auth"}, "junit", true, linkGraph},
	{"reporting", "Reporting", "data", 3, "reporting", "", []string{"etl-pipeline", "ledger"}, "pytest", true, linkTime},
	{"etl-pipeline", "ETL Pipeline", "data", 3, "etl", "", []string{"ledger"}, "pytest", false, linkTime},
}

var (
	extraProfiles = []string{"high", "medium", "elite", "low", "high", "medium"}
	extraDepts    = []string{"Commerce", "Infrastructure", "Data", "Growth", "Operations"}
	extraNouns    = []string{"inventory", "shipping", "pricing", "notifications", "billing", "recommendations",
		"fraud", "loyalty", "returns", "tax", "analytics", "media", "messaging", "scheduler", "ranking",
		"warehouse", "invoicing", "ads", "reviews", "gift-cards", "subscriptions", "coupons", "geo", "feeds"}
	langs      = []string{"go", "junit", "pytest", "jest"}
	firstNames = []string{"alice", "bruno", "chen", "dana", "emeka", "farah", "gustav", "hana", "ivan", "jade",
		"kofi", "lena", "mateo", "nadia", "oscar", "priya", "quinn", "rosa", "sven", "tara", "umar", "vera",
		"wei", "ximena", "yusuf", "zoe", "arjun", "bea", "carlos", "dmitri", "elif", "femi"}
	lastNames = []string{"nguyen", "silva", "wang", "kowalski", "okafor", "haddad", "lind", "sato", "petrov",
		"moreau", "mensah", "weber", "garcia", "rahman", "berg", "iyer", "walsh", "costa", "dahl", "ali",
		"kim", "novak", "obi", "fischer", "tanaka", "ross", "shah", "lopez", "ivanova", "adeyemi", "brandt"}
)

// people hands out unique, stable person names.
type people struct{ n int }

func (p *people) next() string {
	i := p.n
	p.n++
	f := firstNames[i%len(firstNames)]
	l := lastNames[(i/len(firstNames)+i)%len(lastNames)]
	name := f + "." + l
	if round := i / (len(firstNames) * len(lastNames)); round > 0 {
		name = fmt.Sprintf("%s%d", name, round+1)
	}
	return name
}

// buildOrg lays out teams, people, services and repositories. Only the
// catalogue is built up front; histories are generated repository by
// repository.
func buildOrg(opts Options) *org {
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6f7267))
	nTeams := int(math.Round(float64(opts.Teams) * opts.scale()))
	nSvc := int(math.Round(float64(opts.Services) * opts.scale()))
	if nTeams < 1 {
		nTeams = 1
	}
	if nSvc < 1 {
		nSvc = 1
	}
	o := &org{}
	var pp people
	for i := 0; i < nTeams; i++ {
		t := &team{idx: i}
		if i < len(baseTeams) {
			b := baseTeams[i]
			t.id, t.name, t.dept, t.profile = b.id, b.name, b.dept, profiles[b.profile]
		} else {
			t.id = fmt.Sprintf("team-%02d", i+1)
			t.name = fmt.Sprintf("Team %02d", i+1)
			t.dept = extraDepts[i%len(extraDepts)]
			t.profile = profiles[extraProfiles[i%len(extraProfiles)]]
		}
		t.lead = pp.next()
		t.rms = []string{pp.next(), pp.next()}
		for d := 0; d < t.profile.devs; d++ {
			t.devs = append(t.devs, pp.next())
		}
		o.teams = append(o.teams, t)
	}
	for i := 0; i < 3; i++ {
		o.sres = append(o.sres, pp.next())
		o.cab = append(o.cab, pp.next())
	}
	o.security = []string{pp.next(), pp.next()}

	teamByID := map[string]*team{}
	for _, t := range o.teams {
		teamByID[t.id] = t
	}
	repos := map[string]*repo{}
	repoFor := func(name string) *repo {
		full := orgName + "/" + name
		if rp, ok := repos[full]; ok {
			return rp
		}
		rp := &repo{idx: len(o.repos), name: full}
		repos[full] = rp
		o.repos = append(o.repos, rp)
		return rp
	}
	ids := map[string]bool{}
	for i := 0; i < nSvc; i++ {
		s := &service{idx: i}
		if i < len(baseServices) {
			b := baseServices[i]
			s.id, s.name, s.tier, s.lang, s.userFacing, s.link, s.base = b.id, b.name, b.tier, b.lang, b.userFacing, b.link, true
			s.team = teamByID[b.team]
			if s.team == nil {
				s.team = o.teams[i%len(o.teams)]
			}
			s.repo = repoFor(b.repo)
			if b.path != "" {
				s.paths = []string{b.path}
			}
			for _, d := range b.deps {
				s.dependsOn = append(s.dependsOn, d)
			}
		} else {
			noun := extraNouns[i%len(extraNouns)]
			s.id = fmt.Sprintf("%s-%d", noun, i/len(extraNouns)+1)
			s.name = strings.ToUpper(noun[:1]) + noun[1:] + fmt.Sprintf(" %d", i/len(extraNouns)+1)
			s.team = o.teams[i%len(o.teams)]
			s.tier = 1 + r.IntN(3)
			s.lang = langs[r.IntN(len(langs))]
			s.userFacing = r.IntN(3) == 0
			s.link = linkMode(r.IntN(3))
			if i%6 == 0 && i > len(baseServices) {
				// Every sixth service shares a monorepo with the one before.
				prev := o.services[i-1]
				s.repo = prev.repo
				if len(prev.paths) == 0 {
					prev.paths = []string{"services/" + prev.id + "/**"}
				}
				s.paths = []string{"services/" + s.id + "/**"}
			} else {
				s.repo = repoFor(s.id)
			}
			for d := 0; d < r.IntN(3) && i > 0; d++ {
				dep := o.services[r.IntN(i)].id
				if !contains(s.dependsOn, dep) {
					s.dependsOn = append(s.dependsOn, dep)
				}
			}
		}
		ids[s.id] = true
		s.slotMin = 8*60 + (i%12)*60
		s.weekday = 2 + i%3
		s.repo.services = append(s.repo.services, s)
		s.rollbackAuthority = append(append([]string{}, s.team.rms...), o.sres...)
		s.allowedDeployers = append(append(append([]string{deployBot}, s.team.lead), s.team.rms...), o.sres...)
		o.services = append(o.services, s)
	}
	// Drop dependencies on services that a small organisation does not have.
	for _, s := range o.services {
		var keep []string
		for _, d := range s.dependsOn {
			if ids[d] {
				keep = append(keep, d)
			}
		}
		s.dependsOn = keep
	}
	return o
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
