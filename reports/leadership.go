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
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/metrics"
)

// Metric keys: the names of the five DORA metrics in the configuration
// (reports.no_change_band, reports.targets) and in the tier columns.
const (
	DeploymentFrequency = "deployment_frequency"
	LeadTime            = "lead_time"
	ChangeFailureRate   = "change_failure_rate"
	RecoveryTime        = "recovery_time"
	ReworkRate          = "rework_rate"
)

// MetricKeys lists the metric keys in the order of the page: DORA's
// throughput metrics, then its instability metrics.
var MetricKeys = []string{LeadTime, DeploymentFrequency, RecoveryTime, ChangeFailureRate, ReworkRate}

// DefaultBands is the "no material change" band of each metric: a change
// within it reads "no material change" instead of better or worse.
// Deployments, lead time and recovery time compare relatively (0.10: a
// change of less than 10 % of the previous value); the two rates compare
// in absolute terms (0.01: less than one percentage point).
var DefaultBands = map[string]float64{
	DeploymentFrequency: 0.10, LeadTime: 0.10, RecoveryTime: 0.10,
	ChangeFailureRate: 0.01, ReworkRate: 0.01,
}

// LeadershipOptions are what the leadership pages show beside the
// metrics.
type LeadershipOptions struct {
	// Bands overrides DefaultBands per metric key.
	Bands map[string]float64
	// Targets are the organisation's and each team's targets.
	Targets Targets
	// Commentary is Markdown shown near the top of the organisation's page
	// (or the team's page with --team). It is rendered as a safe subset:
	// raw HTML is dropped and links that are not http, https or mailto are
	// left out.
	Commentary string
	// QuickCheck adds the quick-check-style 0–10 score (see quickcheck.go).
	QuickCheck bool
	// MajorSeverities are the incident severities the pages list (default
	// sev1 and sev2).
	MajorSeverities []string
	// FrequencyBasis says which figure a deployment frequency tier rests
	// on, "median" (deployment days in the median week) or "mean" (days
	// per week on average); nil says median.
	FrequencyBasis func(tier string) string
}

// Targets are per metric key, in the unit of the metric's value:
// deployment days per week (median week, at least), hours (lead and
// recovery time, at most) and fractions of 1 (rates, at most). A team's
// target replaces the organisation's for that metric.
type Targets struct {
	Org   map[string]float64
	Teams map[string]map[string]float64
}

// target returns the target of a metric for a team ("" = organisation).
func (t Targets) target(team, key string) (float64, bool) {
	if v, ok := t.Teams[team][key]; ok && team != "" {
		return v, true
	}
	v, ok := t.Org[key]
	return v, ok
}

// metricTile describes how one of the five DORA metrics is shown.
type metricTile struct {
	key, label, value, tier string
	lowerIsBetter           bool
	kind                    string // count, hours, rate
	group                   string
}

const (
	throughput  = "Throughput"
	instability = "Instability"
)

var fiveMetrics = []metricTile{
	{key: LeadTime, label: "Change lead time", value: "lead_time_median_hours", tier: "lead_time_tier", lowerIsBetter: true, kind: "hours", group: throughput},
	{key: DeploymentFrequency, label: "Deployment frequency", value: "deployments", tier: "deployment_frequency_tier", kind: "count", group: throughput},
	{key: RecoveryTime, label: "Failed deployment recovery time", value: "recovery_median_hours", tier: "recovery_time_tier", lowerIsBetter: true, kind: "hours", group: throughput},
	{key: ChangeFailureRate, label: "Change fail rate", value: "change_failure_rate", tier: "change_failure_rate_tier", lowerIsBetter: true, kind: "rate", group: instability},
	{key: ReworkRate, label: "Deployment rework rate", value: "rework_rate", tier: "rework_rate_tier", lowerIsBetter: true, kind: "rate", group: instability},
}

var groupText = map[string]string{
	throughput:  "How fast changes reach production: lead time, deployment frequency and recovery from failed deployments.",
	instability: "How often deployments go wrong: deployments that needed immediate intervention, and unplanned deployments.",
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
		pg := w.newPage("Delivery performance", "Organisation", "leadership.html")
		if err := w.scorecard(ctx, pg, spec, "The organisation", "", c, p); err != nil {
			return err
		}
		b := w.levelBlock("Teams", "Each team's figures for the period; follow a name for its page.", "team", teams, curTeams, teamFile)
		if err := pg.attachCSV(b.Table, b.raw, b.Heading); err != nil {
			return err
		}
		pg.Blocks = append(pg.Blocks, b)
		if err := w.addPage(pg, "leadership.html", "Delivery performance — Organisation", Leadership); err != nil {
			return err
		}
	}
	for _, team := range teams {
		file := teamFile(team)
		pg := w.newPage("Delivery performance", "Team "+team, file)
		if err := w.scorecard(ctx, pg, spec, "Team "+team, team, byTeam(curTeams, team), byTeam(prevTeams, team)); err != nil {
			return err
		}
		if err := w.addPage(pg, file, "Delivery performance — Team "+team, Leadership); err != nil {
			return err
		}
	}
	return nil
}

// addPage renders a page and keeps it, with the CSV files of its tables
// and of its coverage.
func (w *writer) addPage(pg *page, file, title, kind string) error {
	if pg.CoverageTable != nil {
		if err := pg.attachCSV(pg.CoverageTable, pg.coverageRaw, "data coverage"); err != nil {
			return err
		}
	}
	body, err := pg.render()
	if err != nil {
		return err
	}
	w.add(file, title, kind, body)
	w.extras = append(w.extras, pg.csvs...)
	return nil
}

// leadershipFilters lists the metrics filters that leadership and
// scorecard ask for when the team pages are answered from the
// organisation-wide tables (see metrics): the teams, the organisation and
// the services for the period and the previous one, the weeks of the
// period, and the trend panels. A team that the organisation-wide tables
// do not show is still asked for on its own.
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
	fs = append(fs, MetricsFilter{Teams: teams, From: w.from, To: w.to, By: "week", Level: "team"})
	if w.opts.Team == "" {
		fs = append(fs, MetricsFilter{From: w.from, To: w.to, By: "week", Level: "org"})
	}
	trendFrom, trendTo := w.trendWindow()
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

// trendWindow is the twelve months ending with the period.
func (w *writer) trendWindow() (time.Time, time.Time) {
	return monthStart(w.to.Add(-time.Nanosecond)).AddDate(0, -11, 0), w.to
}

// meanDays is the mean number of deployment days per week of the period
// for a team ("" = organisation): the mean, over the weeks the metrics
// engine splits the period into, of their deployment days — the figure a
// deployment frequency tier below one day a week rests on.
func (w *writer) meanDays(ctx context.Context, team string) (float64, bool) {
	f := MetricsFilter{From: w.from, To: w.to, By: "week", Level: "org"}
	if team != "" {
		f.Level, f.Teams = "team", []string{team}
	}
	t, err := w.metrics(ctx, f)
	if err != nil || t == nil {
		return 0, false
	}
	var sum float64
	var n int
	for _, r := range rowsOf(t) {
		if team != "" && r.text("team") != team {
			continue
		}
		d, ok := r.num("deployment_days_per_week")
		if !ok {
			continue
		}
		sum += d
		n++
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// scorecard fills a leadership page: summary, commentary, the tiles in
// DORA's groups (with bands, targets and the optional score), top risks,
// major incidents, the team's services and the trend panels of the spec.
func (w *writer) scorecard(ctx context.Context, pg *page, spec dashboards.Spec, who, team string, cur, prev row) error {
	pf, pt := previous(w.from, w.to)
	lo := w.opts.Leadership
	empty := w.period.State == "empty"
	mean, meanOK := w.meanDays(ctx, team)
	basis := "median"
	if lo.FrequencyBasis != nil {
		basis = lo.FrequencyBasis(strings.ToLower(cur.text("deployment_frequency_tier")))
	}
	if empty {
		pg.Summary = []string{fmt.Sprintf("There is no deployment data for %s (%s), so no metric is shown: an empty period is not a period of zero deployments.", pg.Period, w.period.Reason)}
	} else {
		pg.Summary = summarize(who, cur, basis == "mean" && meanOK, mean)
	}
	if lo.Commentary != "" && (team == "" || w.opts.Team != "") {
		html, err := renderMarkdown(lo.Commentary)
		if err != nil {
			return fmt.Errorf("leadership: commentary: %w", err)
		}
		pg.Commentary = html
	}
	groupIdx := map[string]int{}
	var points []quickPoints
	for _, m := range fiveMetrics {
		gi, ok := groupIdx[m.group]
		if !ok {
			gi = len(pg.TileGroups)
			groupIdx[m.group] = gi
			pg.TileGroups = append(pg.TileGroups, tileGroup{Title: m.group, Text: groupText[m.group]})
		}
		var t tile
		if empty {
			t = tile{Label: m.label, Value: "no data", Detail: "nothing to measure in this period"}
		} else {
			t = w.metricTileOf(m, team, cur, prev, mean, meanOK, basis)
			if lo.QuickCheck {
				if p, ok := quickCheck(m.key, cur); ok {
					t.Score = fmt.Sprintf("score %s of 10", format.Decimal(p))
					points = append(points, quickPoints{m.group, p})
				}
			}
		}
		pg.TileGroups[gi].Tiles = append(pg.TileGroups[gi].Tiles, t)
	}
	if lo.QuickCheck && !empty {
		pg.Score = overallScore(points)
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
	switch {
	case empty:
		pg.Risks = []string{"No data for this period, so there is nothing to compare."}
	case w.prev.State == "empty":
		pg.Risks = append(unrecoveredRisks(rowsOf(sc)), "The previous period has no data, so no service can be compared with it.")
	default:
		pg.Risks = topRisks(rowsOf(sc), rowsOf(sp), 5)
		if w.prev.State == "partial" {
			pg.Risks = append(pg.Risks, "The previous period is partial ("+w.prev.Reason+"): rises against it may not be like for like.")
		}
	}

	inc, err := w.majorIncidents(ctx, pg, team)
	if err != nil {
		return err
	}
	pg.Blocks = append(pg.Blocks, inc)
	if team != "" {
		var svcs []string
		for _, r := range rowsOf(sc) {
			svcs = append(svcs, r.text("service"))
		}
		sort.Strings(svcs)
		b := w.levelBlock("Services", "Each of the team's services over the period.", "service", svcs, rowsOf(sc), nil)
		if empty {
			b.Table, b.raw, b.Empty = nil, nil, "No data for this period."
		}
		if err := pg.attachCSV(b.Table, b.raw, b.Heading); err != nil {
			return err
		}
		pg.Blocks = append(pg.Blocks, b)
	}

	trendFrom, trendTo := w.trendWindow()
	for _, p := range spec.Panels {
		b, err := w.panelBlock(ctx, pg, p, scope{Team: team, From: trendFrom, To: trendTo})
		if err != nil {
			return fmt.Errorf("leadership: %w", err)
		}
		pg.Blocks = append(pg.Blocks, b)
	}
	return nil
}

// band is the "no material change" band of a metric.
func (w *writer) band(key string) float64 {
	if b, ok := w.opts.Leadership.Bands[key]; ok {
		return b
	}
	return DefaultBands[key]
}

func (w *writer) metricTileOf(m metricTile, team string, cur, prev row, mean float64, meanOK bool, basis string) tile {
	t := tile{Label: m.label, Value: format.Dash, Tier: strings.ToLower(cur.text(m.tier))}
	v, ok := cur.num(m.value)
	if ok {
		switch m.kind {
		case "count":
			t.Value = format.Human(format.Count, v)
		case "hours":
			t.Value = format.Duration(v)
		case "rate":
			t.Value = format.Percent(v)
		}
	}
	deploys := cur.count("deployments")
	median, medianOK := cur.num("deployment_days_per_week")
	switch m.value {
	case "deployments":
		t.Detail = "production deployments"
		if medianOK {
			t.Detail += fmt.Sprintf(", on %s in the median week", daysText(median))
		}
		if basis == "mean" && meanOK && t.Tier != "" {
			t.Basis = fmt.Sprintf("Tier %s rests on the mean, %s a week: below one day a week the tier compares the mean, since the median week of a monthly cadence is empty.", t.Tier, daysText(mean))
		} else if medianOK && t.Tier != "" {
			t.Basis = fmt.Sprintf("Tier %s rests on the median week: %s.", t.Tier, daysText(median))
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
	if reason := unknownReason(cur, m.value); !ok && reason != "" {
		t.Value, t.Tier = "unknown", ""
		t.Detail = reason + ": " + unknownText[reason]
	}
	w.compare(&t, m, v, ok, prev)
	w.targetOf(&t, m, team, cur)
	return t
}

// unknownReason is why the metric col of r is unknown ("no incident
// source"), or "" when it is known or merely undefined (no deployments).
// The metric SQL decides it; the page only says it.
func unknownReason(r row, col string) string {
	if u, ok := metrics.UnknownBecause[col]; ok && r[col] == nil {
		return r.text(u)
	}
	return ""
}

// unknownText explains each reason on a tile, for readers who never saw
// the warehouse.
var unknownText = map[string]string{
	"no incident source": "no incident of these services was ever ingested, so failed deployments cannot be known (add an incident source: PagerDuty, Jira or incident events)",
	"no change source":   "no change of these services is known, so lead time cannot be measured (add a pull request source, or the git history)",
}

// compare fills the tile's change against the previous period: an arrow,
// a verdict in words and the figures. A change within the metric's band is
// "no material change"; a previous period with no data is not compared
// with; one with partial data is compared but marked not comparable.
func (w *writer) compare(t *tile, m metricTile, v float64, ok bool, prev row) {
	if !ok {
		return
	}
	if w.prev.State == "empty" {
		t.Change = "no data for the previous period"
		return
	}
	pv, pok := prev.num(m.value)
	if !pok {
		t.Change = "no figure for the previous period"
		return
	}
	d := v - pv
	band := w.band(m.key)
	within := math.Abs(d) <= band*math.Abs(pv)+1e-9
	if m.kind == "rate" {
		within = math.Abs(d) <= band+1e-9
	}
	t.Arrow = "▲"
	if d < 0 {
		t.Arrow = "▼"
	}
	var figures string
	switch m.kind {
	case "count":
		figures = fmt.Sprintf("%s from %s", format.Human(format.Count, math.Abs(d)), format.Human(format.Count, pv))
		if d > 0 {
			figures = "up " + figures
		} else {
			figures = "down " + figures
		}
	case "hours":
		figures = "from " + format.Duration(pv)
	case "rate":
		figures = fmt.Sprintf("%s points from %s", format.Decimal(math.Abs(d)*100), format.Percent(pv))
		if d > 0 {
			figures = "up " + figures
		} else {
			figures = "down " + figures
		}
	}
	if math.Abs(d) < 1e-9 {
		figures = "same as"
	}
	figures += " in the previous period"
	switch {
	case w.prev.State == "partial":
		t.Verdict = "not comparable"
		figures += ", which has partial data (" + w.prev.Reason + ")"
	case within:
		t.Arrow, t.Verdict = "≈", "no material change"
		if math.Abs(d) >= 1e-9 {
			figures += " (within the band of " + bandText(m, band) + ")"
		}
	default:
		better := (d < 0) == m.lowerIsBetter
		t.Better, t.Worse = better, !better
		t.Verdict = "worse"
		if better {
			t.Verdict = "better"
		}
	}
	t.Change = figures
}

func bandText(m metricTile, band float64) string {
	if m.kind == "rate" {
		return "±" + format.Decimal(band*100) + " points"
	}
	return "±" + format.Percent(band)
}

// targetOf fills the tile's target line: the team's target, else the
// organisation's.
func (w *writer) targetOf(t *tile, m metricTile, team string, cur row) {
	tg, ok := w.opts.Leadership.Targets.target(team, m.key)
	if !ok {
		return
	}
	col, atLeast := m.value, false
	var want string
	switch m.kind {
	case "hours":
		want = "at most " + format.Duration(tg)
	case "rate":
		want = "at most " + format.Percent(tg)
	case "count":
		col, atLeast = "deployment_days_per_week", true
		want = "at least " + daysText(tg) + " a week (median week)"
	}
	t.Target = "Target " + want
	v, ok := cur.num(col)
	switch {
	case !ok:
		t.Target += ": no figure to compare"
	case atLeast && v >= tg || !atLeast && v <= tg:
		t.Target += ": met"
		t.TargetMet = true
	default:
		t.Target += ": not met"
		t.TargetBad = true
	}
}

// unrecoveredRisks lists the services with failed deployments not yet
// recovered, which need no previous period to be a risk.
func unrecoveredRisks(cur []row) []string {
	var out []string
	for _, r := range cur {
		if u := r.count("unrecovered_failures"); u > 0 {
			out = append(out, fmt.Sprintf("%s: %s not recovered.", r.text("service"), pluralCount(u, "failed deployment is", "failed deployments are")))
		}
	}
	sort.Strings(out)
	return out
}

// majorIncidents is the block of the period's major incidents (sev1 and
// sev2 by default) with their services and how long each took to resolve.
func (w *writer) majorIncidents(ctx context.Context, pg *page, team string) (block, error) {
	sev := w.opts.Leadership.MajorSeverities
	if len(sev) == 0 {
		sev = []string{"sev1", "sev2"}
	}
	title := "Major incidents (" + strings.Join(sev, ", ") + ")"
	b := block{Heading: title, TableOpen: true}
	t, err := w.data.Query(ctx, "report-major-incidents", map[string]string{
		"team": team, "from": w.from.Format(time.RFC3339), "to": w.to.Format(time.RFC3339), "severities": strings.Join(sev, ","),
	})
	if err != nil {
		return b, fmt.Errorf("leadership: major incidents: %w", err)
	}
	if len(t.Rows) == 0 {
		if w.period.State == "empty" {
			b.Empty = "No data for this period."
		} else {
			b.Empty = "No " + strings.Join(sev, " or ") + " incident was opened in this period."
		}
		return b, nil
	}
	count := map[string]int{}
	longest, longestID := -1.0, ""
	open := 0
	for _, r := range rowsOf(t) {
		count[r.text("severity")]++
		if h, ok := r.num("resolve_hours"); ok {
			if h > longest {
				longest, longestID = h, r.text("incident_id")
			}
		} else {
			open++
		}
	}
	var parts []string
	for _, s := range sev {
		if n := count[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	b.Text = "Opened in the period: " + strings.Join(parts, ", ") + "."
	if longest >= 0 {
		b.Text += fmt.Sprintf(" The longest, %s, took %s to resolve.", longestID, format.DurationWords(longest))
	}
	if open > 0 {
		b.Text += fmt.Sprintf(" %s not resolved yet.", capitalize(pluralCount(int64(open), "is", "are")))
	}
	ht, err := htmlTableOf(t, nil, 0)
	if err != nil {
		return b, err
	}
	b.Table = ht
	return b, pg.attachCSV(ht, t, title)
}

// levelBlock is a table of teams or services with their figures for the
// period; href links a key to its page (nil: no links).
func (w *writer) levelBlock(heading, text, level string, keys []string, cur []row, href func(string) string) block {
	b := block{Heading: heading, Text: text, TableOpen: true}
	if len(keys) == 0 {
		b.Empty = "No " + level + " has metrics for this period."
		return b
	}
	cols := []struct{ col, head string }{
		{"deployments", "Deployments"}, {"deployment_frequency_tier", "Frequency tier"},
		{"lead_time_median_hours", "Lead time (median)"}, {"lead_time_tier", "Lead time tier"},
		{"change_failure_rate", "Change fail rate"}, {"change_failure_rate_tier", "Fail rate tier"},
		{"recovery_median_hours", "Recovery (median)"}, {"recovery_time_tier", "Recovery tier"},
		{"rework_rate", "Rework rate"},
	}
	raw := &output.Table{Columns: []string{level}}
	t := &htmlTable{Columns: []string{capitalize(level)}}
	for _, c := range cols {
		t.Columns = append(t.Columns, c.head)
		raw.Columns = append(raw.Columns, c.col)
	}
	empty := w.period.State == "empty"
	for _, key := range keys {
		var r row
		for _, x := range cur {
			if x.text(level) == key {
				r = x
			}
		}
		line := []cell{{Text: key}}
		if href != nil {
			line[0].Href = href(key)
		}
		rawLine := []any{key}
		for _, c := range cols {
			v := r[c.col]
			if empty {
				v = nil
			}
			ce := cell{Text: cellText(nil, c.col, v)}
			if reason := unknownReason(r, c.col); reason != "" && !empty {
				ce.Text = "unknown (" + reason + ")"
			}
			if _, ok := number(v); ok {
				ce.Num = true
			}
			if strings.HasSuffix(c.col, "_tier") && v != nil {
				ce.Tier = strings.ToLower(output.Text(v))
			}
			line = append(line, ce)
			rawLine = append(rawLine, v)
		}
		t.Rows = append(t.Rows, line)
		raw.Rows = append(raw.Rows, rawLine)
	}
	b.Table, b.raw = t, raw
	return b
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
