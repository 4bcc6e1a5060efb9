package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/output"
)

// metricTile describes how one of the five DORA metrics is shown.
type metricTile struct {
	label, value, tier string
	lowerIsBetter      bool
	kind               string // count, hours, rate
}

var fiveMetrics = []metricTile{
	{label: "Deployment frequency", value: "deployments", tier: "deployment_frequency_tier", kind: "count"},
	{label: "Change lead time", value: "lead_time_median_hours", tier: "lead_time_tier", lowerIsBetter: true, kind: "hours"},
	{label: "Change failure rate", value: "change_failure_rate", tier: "change_failure_rate_tier", lowerIsBetter: true, kind: "rate"},
	{label: "Recovery time", value: "recovery_median_hours", tier: "recovery_time_tier", lowerIsBetter: true, kind: "hours"},
	{label: "Rework rate", value: "rework_rate", tier: "rework_rate_tier", lowerIsBetter: true, kind: "rate"},
}

func (w *writer) leadership(ctx context.Context) error {
	spec, err := dashboards.Find("leadership", w.opts.Dashboards...)
	if err != nil {
		return err
	}
	pf, pt := previous(w.from, w.to)
	if err := w.prefetch(ctx, w.leadershipFilters(spec)); err != nil {
		return fmt.Errorf("leadership: %w", err)
	}
	get := func(level string, teams []string, from, to time.Time) ([]row, error) {
		t, err := w.metrics(ctx, MetricsFilter{Teams: teams, From: from, To: to, Level: level})
		if err != nil {
			return nil, fmt.Errorf("leadership: metrics (%s): %w", level, err)
		}
		return rowsOf(t), nil
	}
	teamsOf := func(t string) []string {
		if t == "" {
			return nil
		}
		return []string{t}
	}
	curTeams, err := get("team", teamsOf(w.opts.Team), w.from, w.to)
	if err != nil {
		return err
	}
	prevTeams, err := get("team", teamsOf(w.opts.Team), pf, pt)
	if err != nil {
		return err
	}
	byTeam := func(rs []row, team string) row {
		for _, r := range rs {
			if r.text("team") == team {
				return r
			}
		}
		return nil
	}
	var teams []string
	for _, r := range curTeams {
		if t := r.text("team"); t != "" && (w.opts.Team == "" || t == w.opts.Team) {
			teams = append(teams, t)
		}
	}
	sort.Strings(teams)
	if w.opts.Team != "" && len(teams) == 0 {
		teams = []string{w.opts.Team}
	}

	if w.opts.Team == "" {
		cur, err := get("org", nil, w.from, w.to)
		if err != nil {
			return err
		}
		prev, err := get("org", nil, pf, pt)
		if err != nil {
			return err
		}
		var c, p row
		if len(cur) > 0 {
			c = cur[0]
		}
		if len(prev) > 0 {
			p = prev[0]
		}
		pg := newPage("Delivery performance", "Organisation", w.from, w.to, w.opts.Now)
		if err := w.scorecard(ctx, pg, spec, "The organisation", "", c, p); err != nil {
			return err
		}
		pg.Blocks = append(pg.Blocks, teamBlock(teams, curTeams, byTeam))
		body, err := pg.render()
		if err != nil {
			return err
		}
		w.add("leadership.html", "Delivery performance — Organisation", Leadership, body)
	}
	for _, team := range teams {
		pg := newPage("Delivery performance", "Team "+team, w.from, w.to, w.opts.Now)
		if err := w.scorecard(ctx, pg, spec, "Team "+team, team, byTeam(curTeams, team), byTeam(prevTeams, team)); err != nil {
			return err
		}
		body, err := pg.render()
		if err != nil {
			return err
		}
		w.add(teamFile(team), "Delivery performance — Team "+team, Leadership, body)
	}
	return nil
}

// leadershipFilters lists the metrics filters that leadership and
// scorecard ask for when the team pages are answered from the
// organisation-wide tables (see metrics): the teams, the organisation and
// the services for the period and the previous one, and the trend panels.
// A team that the organisation-wide tables do not show is still asked for
// on its own.
func (w *writer) leadershipFilters(spec dashboards.Spec) []MetricsFilter {
	pf, pt := previous(w.from, w.to)
	var teams []string
	if w.opts.Team != "" {
		teams = []string{w.opts.Team}
	}
	var fs []MetricsFilter
	for _, win := range [][2]time.Time{{w.from, w.to}, {pf, pt}} {
		fs = append(fs, MetricsFilter{Teams: teams, From: win[0], To: win[1], Level: "team"})
		if w.opts.Team == "" {
			fs = append(fs, MetricsFilter{From: win[0], To: win[1], Level: "org"})
		}
		fs = append(fs, MetricsFilter{Teams: teams, From: win[0], To: win[1], Level: "service"})
	}
	trendTo := w.to
	trendFrom := monthStart(trendTo.Add(-time.Nanosecond)).AddDate(0, -11, 0)
	for _, p := range spec.Panels {
		if f, ok := panelFilter(p, scope{Team: w.opts.Team, From: trendFrom, To: trendTo}); ok {
			fs = append(fs, f)
		}
		if w.opts.Team != "" {
			continue
		}
		// A team page's panel, for any team: the ones that are split
		// from an organisation-wide table share it.
		if f, ok := panelFilter(p, scope{Team: "any", From: trendFrom, To: trendTo}); ok {
			if all, ok := orgWide(f); ok {
				fs = append(fs, all)
			}
		}
	}
	return fs
}

// scorecard fills a leadership page: summary, the five tiles, top risks and
// the trend panels of the spec.
func (w *writer) scorecard(ctx context.Context, pg *page, spec dashboards.Spec, who, team string, cur, prev row) error {
	pf, pt := previous(w.from, w.to)
	pg.Summary = summarize(who, cur)
	for _, m := range fiveMetrics {
		pg.Tiles = append(pg.Tiles, metricTileOf(m, cur, prev))
	}
	var teams []string
	if team != "" {
		teams = []string{team}
	}
	sc, err := w.metrics(ctx, MetricsFilter{Teams: teams, From: w.from, To: w.to, Level: "service"})
	if err != nil {
		return fmt.Errorf("leadership: metrics (service): %w", err)
	}
	sp, err := w.metrics(ctx, MetricsFilter{Teams: teams, From: pf, To: pt, Level: "service"})
	if err != nil {
		return fmt.Errorf("leadership: metrics (service): %w", err)
	}
	pg.RisksTitle = "Top risks"
	pg.Risks = topRisks(rowsOf(sc), rowsOf(sp), 5)

	trendTo := w.to
	trendFrom := monthStart(trendTo.Add(-time.Nanosecond)).AddDate(0, -11, 0)
	for _, p := range spec.Panels {
		t, err := w.panelTable(ctx, p, scope{Team: team, From: trendFrom, To: trendTo})
		if err != nil {
			return fmt.Errorf("leadership: %w", err)
		}
		b, err := pg.renderPanel(p, t)
		if err != nil {
			return fmt.Errorf("leadership: %w", err)
		}
		pg.Blocks = append(pg.Blocks, b)
	}
	return nil
}

func metricTileOf(m metricTile, cur, prev row) tile {
	t := tile{Label: m.label, Value: "—", Tier: strings.ToLower(cur.text(m.tier))}
	v, ok := cur.num(m.value)
	if ok {
		switch m.kind {
		case "count":
			t.Value = decimal(v)
		case "hours":
			t.Value = humanHours(v)
		case "rate":
			t.Value = percent(v)
		}
	}
	deploys := cur.count("deployments")
	switch m.value {
	case "deployments":
		t.Value = decimal(v)
		t.Detail = "production deployments"
		if d, ok := cur.num("deployment_days_per_week"); ok {
			t.Detail += fmt.Sprintf(", on %s a week (median week)", daysText(d))
		}
	case "lead_time_median_hours":
		if n := cur.count("lead_time_changes"); n > 0 {
			t.Detail = "median of " + pluralCount(n, "change", "changes")
		} else {
			t.Detail = "no change traced to production"
		}
	case "change_failure_rate":
		if deploys == 0 {
			t.Detail = "no production deployments"
		} else {
			t.Detail = fmt.Sprintf("%d of %d deployments failed", cur.count("failed_deployments"), deploys)
		}
	case "recovery_median_hours":
		switch f := cur.count("failed_deployments"); {
		case f == 0:
			t.Detail = "no failed deployments"
		case !ok:
			t.Detail = "no failed deployment recovered yet"
		default:
			t.Detail = "median of " + pluralCount(f-cur.count("unrecovered_failures"), "recovery", "recoveries")
		}
		if u := cur.count("unrecovered_failures"); u > 0 {
			t.Detail += fmt.Sprintf("; %d unrecovered", u)
		}
	case "rework_rate":
		if deploys == 0 {
			t.Detail = "no production deployments"
		} else {
			t.Detail = fmt.Sprintf("%d of %d deployments unplanned", cur.count("unplanned_deployments"), deploys)
		}
	}
	pv, pok := prev.num(m.value)
	switch {
	case !ok:
	case !pok:
		t.Change = "no figure for the previous period"
	default:
		d := v - pv
		if math.Abs(d) < 1e-9 {
			t.Change = "same as the previous period"
			break
		}
		arrow := "▲"
		if d < 0 {
			arrow = "▼"
		}
		switch m.kind {
		case "count":
			t.Change = fmt.Sprintf("%s %s from %s", arrow, decimal(math.Abs(d)), decimal(pv))
		case "hours":
			t.Change = fmt.Sprintf("%s from %s", arrow, humanHours(pv))
		case "rate":
			t.Change = fmt.Sprintf("%s %s pts from %s", arrow, decimal(math.Abs(d)*100), percent(pv))
		}
		t.Change += " in the previous period"
		t.Better = (d < 0) == m.lowerIsBetter
		t.Worse = !t.Better
	}
	return t
}

// topRisks names the services whose change failure rate or recovery time
// worsened most against the previous period, and those with unrecovered
// failures.
func topRisks(cur, prev []row, n int) []string {
	before := map[string]row{}
	for _, r := range prev {
		before[r.text("service")] = r
	}
	type risk struct {
		service, text string
		rank          int // unrecovered first, then failure rate, then recovery
		size          float64
	}
	var risks []risk
	for _, r := range cur {
		svc := r.text("service")
		if u := r.count("unrecovered_failures"); u > 0 {
			risks = append(risks, risk{svc, fmt.Sprintf("%s: %s not recovered.", svc, pluralCount(u, "failed deployment is", "failed deployments are")), 0, float64(u)})
		}
		p := before[svc]
		if c, ok := r.num("change_failure_rate"); ok {
			if pc, pok := p.num("change_failure_rate"); pok && c > pc+1e-9 {
				risks = append(risks, risk{svc, fmt.Sprintf("%s: change failure rate rose from %s to %s (%d of %d deployments failed).",
					svc, percent(pc), percent(c), r.count("failed_deployments"), r.count("deployments")), 1, c - pc})
			}
		}
		if c, ok := r.num("recovery_median_hours"); ok {
			if pc, pok := p.num("recovery_median_hours"); pok && c > pc+1e-9 {
				risks = append(risks, risk{svc, fmt.Sprintf("%s: recovery took a median of %s, up from %s.",
					svc, humanHours(c), humanHours(pc)), 2, (c - pc) / math.Max(pc, 1)})
			}
		}
	}
	sort.SliceStable(risks, func(i, j int) bool {
		a, b := risks[i], risks[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.size != b.size {
			return a.size > b.size
		}
		return a.service < b.service
	})
	if len(cur) == 0 {
		return []string{"No service has figures for this period, so there is nothing to compare."}
	}
	if len(risks) == 0 {
		return []string{"No service's change failure rate or recovery time worsened against the previous period, and every failed deployment was recovered."}
	}
	var out []string
	for i, r := range risks {
		if i == n {
			break
		}
		out = append(out, r.text)
	}
	return out
}

// teamBlock is the organisation page's table of teams, linking each to its
// page.
func teamBlock(teams []string, cur []row, byTeam func([]row, string) row) block {
	b := block{Heading: "Teams", Text: "Each team's figures for the period; follow a name for its page.", TableOpen: true}
	if len(teams) == 0 {
		b.Empty = "No team has metrics for this period."
		return b
	}
	cols := []struct{ col, head string }{
		{"deployments", "Deployments"}, {"deployment_frequency_tier", "Frequency tier"},
		{"lead_time_median_hours", "Lead time (median h)"}, {"lead_time_tier", "Lead time tier"},
		{"change_failure_rate", "Change failure rate"}, {"change_failure_rate_tier", "Failure tier"},
		{"recovery_median_hours", "Recovery (median h)"}, {"recovery_time_tier", "Recovery tier"},
		{"rework_rate", "Rework rate"},
	}
	t := &htmlTable{Columns: []string{"Team"}}
	for _, c := range cols {
		t.Columns = append(t.Columns, c.head)
	}
	for _, team := range teams {
		r := byTeam(cur, team)
		line := []cell{{Text: team, Href: teamFile(team)}}
		for _, c := range cols {
			v := r[c.col]
			ce := cell{Text: formatCell(c.col, v)}
			if _, ok := number(v); ok {
				ce.Num = true
			}
			if strings.HasSuffix(c.col, "_tier") && v != nil {
				ce.Tier = strings.ToLower(output.Text(v))
			}
			line = append(line, ce)
		}
		t.Rows = append(t.Rows, line)
	}
	b.Table = t
	return b
}

// teamFile is the leadership page of one team.
func teamFile(team string) string { return scopedFile("leadership", team) }

// scopedFile names the page of a report for a team: the team's name made
// safe for a file name, with a short hash when that changed it, so two names
// cannot collide. Without a team it is the report's own name.
func scopedFile(base, team string) string {
	if team == "" {
		return base + ".html"
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(team) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			sb.WriteRune(r)
		default:
			sb.WriteByte('-')
		}
	}
	slug := strings.Trim(sb.String(), "-")
	if len(slug) > 60 {
		slug = slug[:60]
	}
	if slug != team {
		sum := sha256.Sum256([]byte(team))
		slug += "-" + hex.EncodeToString(sum[:3])
	}
	return base + "-" + slug + ".html"
}
