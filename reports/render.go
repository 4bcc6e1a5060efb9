package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/output"
)

// scope is what a panel is drawn for: a team (or the organisation) and a
// window.
type scope struct {
	Team     string
	From, To time.Time
}

// panelTable fetches the rows of a panel.
func (w *writer) panelTable(ctx context.Context, p dashboards.Panel, sc scope) (*output.Table, error) {
	if f, ok := panelFilter(p, sc); ok {
		t, err := w.metrics(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("panel %q: %w", p.Title, err)
		}
		return t, nil
	}
	params := make(map[string]string, len(p.Params))
	for k, v := range p.Params {
		switch v {
		case "$team":
			v = sc.Team
		case "$from":
			v = sc.From.Format(time.RFC3339)
		case "$to":
			v = sc.To.Format(time.RFC3339)
		case "$from_date":
			v = day(sc.From)
		case "$to_date":
			v = day(sc.To)
		}
		params[k] = v
	}
	t, err := w.data.Query(ctx, p.Query, params)
	if err != nil {
		return nil, fmt.Errorf("panel %q: query %s: %w", p.Title, p.Query, err)
	}
	return t, nil
}

// panelFilter is the metrics filter of a metrics panel drawn for sc; ok is
// false for a panel that runs a named query.
func panelFilter(p dashboards.Panel, sc scope) (MetricsFilter, bool) {
	if p.Metrics == nil {
		return MetricsFilter{}, false
	}
	f := MetricsFilter{From: sc.From, To: sc.To, By: p.Metrics.By, Level: p.Metrics.Level}
	if f.Level == "" {
		f.Level = "org"
		if sc.Team != "" {
			f.Level = "team"
		}
	}
	if sc.Team != "" {
		f.Teams = []string{sc.Team}
	}
	return f, true
}

// metrics answers a metrics filter. A filter for one team at team or
// service level is answered from the organisation-wide result for the same
// window, split by team: a leadership report with a page per team then
// costs a few metrics calls in all instead of a few per team. A team the
// organisation-wide result does not show (no data) is asked directly, so
// the answer is the one the data layer gives for that team.
func (w *writer) metrics(ctx context.Context, f MetricsFilter) (*output.Table, error) {
	if all, ok := orgWide(f); ok {
		t, err := w.metricsOnce(ctx, all)
		if err != nil {
			return nil, err
		}
		if part, ok := w.splitByTeam(ctx, t, f.Level, f.Teams[0]); ok {
			return part, nil
		}
	}
	return w.metricsOnce(ctx, f)
}

// orgWide returns the organisation-wide filter that metrics splits f from,
// if it splits f.
func orgWide(f MetricsFilter) (MetricsFilter, bool) {
	if len(f.Teams) == 1 && len(f.Services) == 0 && (f.Level == "team" || f.Level == "service") {
		f.Teams = nil
		return f, true
	}
	return f, false
}

// prefetch asks a data layer that answers several metrics filters at once
// (BatchData) for every filter of fs that metrics will ask for and the
// cache does not hold yet, in one call, and caches the answers. The pages
// then render from the cache. Without BatchData it does nothing and each
// filter is asked for when it is needed.
func (w *writer) prefetch(ctx context.Context, fs []MetricsFilter) error {
	b, ok := w.data.(BatchData)
	if !ok {
		return nil
	}
	var todo []MetricsFilter
	seen := map[string]bool{}
	for _, f := range fs {
		if all, ok := orgWide(f); ok {
			f = all
		}
		k := metricsKey(f)
		if _, ok := w.metricsCache[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		todo = append(todo, f)
	}
	if len(todo) < 2 {
		return nil
	}
	ts, err := b.MetricsMany(ctx, todo)
	if err != nil {
		return err
	}
	if len(ts) != len(todo) {
		return fmt.Errorf("metrics: %d tables for %d filters", len(ts), len(todo))
	}
	if w.metricsCache == nil {
		w.metricsCache = map[string]*output.Table{}
	}
	for i, f := range todo {
		w.metricsCache[metricsKey(f)] = ts[i]
	}
	return nil
}

func metricsKey(f MetricsFilter) string {
	return fmt.Sprintf("%q|%q|%s|%s|%s|%s", f.Services, f.Teams, f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano), f.By, f.Level)
}

// splitByTeam keeps the rows of t that belong to team. It reports false
// when it cannot tell (no service-to-team map) or when no row belongs to
// the team.
func (w *writer) splitByTeam(ctx context.Context, t *output.Table, level, team string) (*output.Table, bool) {
	keyCol := -1
	for i, c := range t.Columns {
		if c == level {
			keyCol = i
		}
	}
	if keyCol < 0 {
		return nil, false
	}
	belongs := func(key string) bool { return key == team }
	if level == "service" {
		teams, ok := w.serviceTeams(ctx)
		if !ok {
			return nil, false
		}
		belongs = func(key string) bool { return teams[key] == team }
	}
	out := &output.Table{Columns: t.Columns}
	for _, r := range t.Rows {
		if k, ok := r[keyCol].(string); ok && belongs(k) {
			out.Rows = append(out.Rows, r)
		}
	}
	return out, len(out.Rows) > 0
}

// serviceTeams maps each service to its team, read once per report.
func (w *writer) serviceTeams(ctx context.Context) (map[string]string, bool) {
	if w.svcTeams == nil {
		w.svcTeams = map[string]string{}
		t, err := w.data.Query(ctx, "report-service-teams", nil)
		if err != nil {
			w.svcTeamsErr = true
			return nil, false
		}
		for _, r := range t.Rows {
			s, _ := r[0].(string)
			tm, _ := r[1].(string)
			w.svcTeams[s] = tm
		}
	}
	return w.svcTeams, !w.svcTeamsErr
}

// metricsOnce asks the data layer once per distinct filter: the trend
// panels of a page share one.
func (w *writer) metricsOnce(ctx context.Context, f MetricsFilter) (*output.Table, error) {
	key := metricsKey(f)
	if t, ok := w.metricsCache[key]; ok {
		return t, nil
	}
	t, err := w.data.Metrics(ctx, f)
	if err != nil {
		return nil, err
	}
	if w.metricsCache == nil {
		w.metricsCache = map[string]*output.Table{}
	}
	w.metricsCache[key] = t
	return t, nil
}

// panelBlock fetches a panel's rows and renders it: periods the data does
// not cover are marked (see markPeriods) and the table is written beside
// the page as CSV.
func (w *writer) panelBlock(ctx context.Context, pg *page, p dashboards.Panel, sc scope) (block, error) {
	t, err := w.panelTable(ctx, p, sc)
	if err != nil {
		return block{}, err
	}
	display, chart, notes := w.markPeriods(t)
	b, err := pg.renderPanelWith(p, display, chart)
	if err != nil {
		return b, err
	}
	b.Notes = append(b.Notes, notes...)
	if p.Axis == "days" {
		b.Notes = append(b.Notes, pg.freezeNotes()...)
	}
	if b.Table != nil {
		if err := pg.attachCSV(b.Table, display, p.Title); err != nil {
			return b, err
		}
	}
	return b, nil
}

// freezeNotes says the freezes that overlap the page's period, in words
// (they are shaded on a day axis).
func (pg *page) freezeNotes() []string {
	var out []string
	for _, f := range pg.freezes {
		if f.End.After(pg.from) && f.Start.Before(pg.to) {
			out = append(out, fmt.Sprintf("Freeze %q: %s to %s (shaded).", f.Name, f.Start.UTC().Format("2006-01-02 15:04"), f.End.UTC().Format("2006-01-02 15:04")))
		}
	}
	return out
}

// markPeriods applies the coverage to a table with period_start and
// period_end (a metrics panel): periods that end before the data begins
// are left out; a period with no data has every value unknown, so it is
// drawn as a gap and shows a dash, never a zero with a tier; a period with
// partial data keeps its figures in the table without a tier and is not
// drawn. A "coverage" column says which is which. It returns the table to
// show, the one to draw and sentences saying what was done.
func (w *writer) markPeriods(t *output.Table) (display, chart *output.Table, notes []string) {
	si, ei := t.Index("period_start"), t.Index("period_end")
	if w.cov == nil || si < 0 || ei < 0 || len(t.Rows) == 0 {
		return t, t, nil
	}
	first := w.cov.Range(periodKinds...).First
	keep := func(i int) bool { return i == 0 || i == si || i == ei }
	display = &output.Table{Columns: t.Columns, Kinds: t.Kinds, Labels: t.Labels}
	chart = &output.Table{Columns: t.Columns, Kinds: t.Kinds, Labels: t.Labels}
	var states []string
	dropped, empties := 0, 0
	var partial []string
	for _, r := range t.Rows {
		s, ok1 := r[si].(time.Time)
		e, ok2 := r[ei].(time.Time)
		if !ok1 || !ok2 {
			display.Rows, chart.Rows = append(display.Rows, r), append(chart.Rows, r)
			states = append(states, "")
			continue
		}
		p := w.state(s, e)
		if p.State == "empty" && !first.IsZero() && !e.After(coverageDay(first)) {
			dropped++
			continue
		}
		d, c := append([]any(nil), r...), append([]any(nil), r...)
		switch p.State {
		case "empty":
			empties++
			for i := range d {
				if !keep(i) {
					d[i], c[i] = nil, nil
				}
			}
			states = append(states, "no data")
		case "partial":
			partial = append(partial, periodText(s, e)+" ("+p.Reason+")")
			for i, col := range t.Columns {
				if strings.HasSuffix(col, "_tier") {
					d[i] = nil
				}
				if !keep(i) {
					c[i] = nil
				}
			}
			states = append(states, "partial: "+p.Reason)
		default:
			states = append(states, "complete")
		}
		display.Rows, chart.Rows = append(display.Rows, d), append(chart.Rows, c)
	}
	if dropped > 0 {
		notes = append(notes, fmt.Sprintf("The data begins %s: %s before it %s left out.", day(first), pluralCount(int64(dropped), "period", "periods"), map[bool]string{true: "is", false: "are"}[dropped == 1]))
	}
	if empties > 0 || len(partial) > 0 {
		display.Columns = append(append([]string(nil), t.Columns...), "coverage")
		for i := range display.Rows {
			display.Rows[i] = append(display.Rows[i], states[i])
		}
	}
	if empties > 0 {
		notes = append(notes, "A period without data is a gap in the chart and a dash in the table, not a zero.")
	}
	if len(partial) > 0 {
		notes = append(notes, "Partial data: "+strings.Join(partial, "; ")+". Its figures are in the table without a tier, and not drawn.")
	}
	return display, chart, notes
}

// renderPanel turns a panel and its rows into a page block: a chart (or KPI
// tiles) and the table equivalent.
func (pg *page) renderPanel(p dashboards.Panel, t *output.Table) (block, error) {
	return pg.renderPanelWith(p, t, t)
}

// renderPanelWith renders the table t and draws the chart from chartT (the
// same rows, with the values not to draw unknown).
func (pg *page) renderPanelWith(p dashboards.Panel, t, chartT *output.Table) (block, error) {
	b := block{Heading: p.Title, Text: p.Description}
	if len(t.Rows) == 0 {
		b.Empty = "No data for this period."
		return b, nil
	}
	cols := p.Columns
	if len(cols) > 0 && colIndex(t, "coverage") >= 0 && colIndex(&output.Table{Columns: cols}, "coverage") < 0 {
		cols = append(append([]string(nil), cols...), "coverage")
	}
	tbl, err := htmlTableOf(t, cols, p.Limit)
	if err != nil {
		return b, fmt.Errorf("panel %q: %w", p.Title, err)
	}
	b.Table = tbl
	switch p.Chart {
	case dashboards.Table:
		b.TableOpen = true
	case dashboards.KPI:
		for _, y := range p.Y {
			i := colIndex(t, y)
			if i < 0 {
				return b, fmt.Errorf("panel %q: y: no column %q in the result (columns: %s)", p.Title, y, strings.Join(t.Columns, ", "))
			}
			b.Tiles = append(b.Tiles, tile{Label: label(y), Value: cellText(t, y, t.Rows[0][i])})
		}
	default:
		c, err := pg.chart(p, chartT)
		if err != nil {
			return b, err
		}
		if c == nil {
			b.Empty = "Nothing to draw: every value is empty for this period."
		}
		b.Chart = c
	}
	return b, nil
}

// chart builds the ECharts option of a panel with go-echarts and returns it
// as JSON safe to embed in a <script> element.
func (pg *page) chart(p dashboards.Panel, t *output.Table) (*chartView, error) {
	xi := colIndex(t, p.X)
	if xi < 0 {
		return nil, fmt.Errorf("panel %q: x: no column %q in the result (columns: %s)", p.Title, p.X, strings.Join(t.Columns, ", "))
	}
	yi := make([]int, len(p.Y))
	for k, y := range p.Y {
		if yi[k] = colIndex(t, y); yi[k] < 0 {
			return nil, fmt.Errorf("panel %q: y: no column %q in the result (columns: %s)", p.Title, y, strings.Join(t.Columns, ", "))
		}
	}
	si, vi := -1, -1
	if p.Series != "" {
		if si = colIndex(t, p.Series); si < 0 {
			return nil, fmt.Errorf("panel %q: series: no column %q in the result", p.Title, p.Series)
		}
	}
	if p.Value != "" {
		if vi = colIndex(t, p.Value); vi < 0 {
			return nil, fmt.Errorf("panel %q: value: no column %q in the result", p.Title, p.Value)
		}
	}
	if !anyNumber(t, p) {
		return nil, nil
	}
	pg.charts++
	id := fmt.Sprintf("chart-%d", pg.charts)
	init := opts.Initialization{ChartID: id, AssetsHost: "assets/", Width: "100%", Height: "360px"}
	global := []charts.GlobalOpts{
		charts.WithInitializationOpts(init),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "3%", Bottom: "48", ContainLabel: opts.Bool(true)}),
		charts.WithAriaOpts(&opts.Aria{Enabled: opts.Bool(true)}),
	}
	if len(p.Colors) > 0 {
		global = append(global, charts.WithColorsOpts(opts.Colors(p.Colors)))
	}
	cats, series, names := pivot(t, xi, yi, si)
	if p.Axis == "days" && !pg.from.IsZero() {
		cats, series = pg.fillDays(cats, series)
	}
	// Rates and shares are drawn as percentages, like the tables show them.
	if isRate(t.Columns[yi[0]]) {
		for _, s := range series {
			for j, v := range s {
				if f, ok := v.(float64); ok {
					s[j] = math.Round(f*10000) / 100
				}
			}
		}
		if si >= 0 {
			for k := range names {
				names[k] += " (%)"
			}
		}
	}
	var option map[string]any
	var assets []string
	switch p.Chart {
	case dashboards.Line:
		c := charts.NewLine()
		c.SetGlobalOptions(global...)
		c.SetXAxis(cats)
		for k, name := range names {
			data := make([]opts.LineData, len(cats))
			for j := range cats {
				data[j] = opts.LineData{Value: series[k][j]}
			}
			c.AddSeries(seriesLabel(t, si, name), data, charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(false), ShowSymbol: opts.Bool(true)}))
		}
		c.Validate()
		option, assets = c.JSON(), c.JSAssets.Values
	case dashboards.Bar, dashboards.StackedBar:
		c := charts.NewBar()
		c.SetGlobalOptions(global...)
		c.SetXAxis(cats)
		for k, name := range names {
			data := make([]opts.BarData, len(cats))
			for j := range cats {
				data[j] = opts.BarData{Value: series[k][j]}
			}
			var so []charts.SeriesOpts
			if p.Chart == dashboards.StackedBar {
				so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: "total"}))
			}
			c.AddSeries(seriesLabel(t, si, name), data, so...)
		}
		c.Validate()
		option, assets = c.JSON(), c.JSAssets.Values
	case dashboards.Heatmap:
		yc := yi[0]
		xs, ys := []string{}, []string{}
		xPos, yPos := map[string]int{}, map[string]int{}
		var cells []opts.HeatMapData
		maxV := 0.0
		for _, r := range t.Rows {
			xk, yk := category(r[xi]), category(r[yc])
			if _, ok := xPos[xk]; !ok {
				xPos[xk] = len(xs)
				xs = append(xs, xk)
			}
			if _, ok := yPos[yk]; !ok {
				yPos[yk] = len(ys)
				ys = append(ys, yk)
			}
			v, ok := number(r[vi])
			if !ok {
				continue
			}
			maxV = math.Max(maxV, v)
			cells = append(cells, opts.HeatMapData{Value: [3]any{xPos[xk], yPos[yk], v}})
		}
		if maxV == 0 {
			maxV = 1
		}
		c := charts.NewHeatMap()
		c.SetGlobalOptions(append(global[:len(global):len(global)],
			charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
			charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: xs}),
			charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: ys, Inverse: opts.Bool(true)}),
			charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(true), Min: 0, Max: float32(maxV), Orient: "horizontal", Left: "center", Bottom: "0",
				InRange: &opts.VisualMapInRange{Color: []string{"#f2f6fc", "#1f5fae"}}}),
			charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		)...)
		c.AddSeries(label(p.Value), cells)
		c.Validate()
		option, assets = c.JSON(), c.JSAssets.Values
	default:
		return nil, fmt.Errorf("panel %q: chart %q cannot be drawn", p.Title, p.Chart)
	}
	option, err := pg.decorate(option, p.Axis == "days")
	if err != nil {
		return nil, fmt.Errorf("panel %q: %w", p.Title, err)
	}
	for _, a := range assets {
		if a != EChartsPath {
			return nil, fmt.Errorf("panel %q: chart asset %q is not the local %s", p.Title, a, EChartsPath)
		}
	}
	js, err := optionJSON(option)
	if err != nil {
		return nil, fmt.Errorf("panel %q: %w", p.Title, err)
	}
	return &chartView{ID: id, Option: js, Label: p.Title}, nil
}

// anyNumber reports whether a chart would draw anything: some value
// column holds a number.
func anyNumber(t *output.Table, p dashboards.Panel) bool {
	cols := p.Y
	if p.Chart == dashboards.Heatmap {
		cols = []string{p.Value}
	}
	for _, c := range cols {
		i := colIndex(t, c)
		for _, r := range t.Rows {
			if _, ok := number(r[i]); ok {
				return true
			}
		}
	}
	return false
}

// seriesLabel names a series: a column heading, or a value of the series
// column as it is.
func seriesLabel(t *output.Table, si int, name string) string {
	if si >= 0 {
		return name
	}
	if isRate(name) {
		return label(name) + " (%)"
	}
	return label(name)
}

func isRate(col string) bool {
	return strings.HasSuffix(col, "_rate") || strings.HasSuffix(col, "share")
}

// optionJSON encodes a chart option for a <script> element. encoding/json
// escapes <, > and & as \u003c, \u003e and \u0026 (and U+2028, U+2029), so
// a value cannot close the element or open a comment.
func optionJSON(option map[string]any) (template.JS, error) {
	b, err := json.Marshal(option)
	if err != nil {
		return "", fmt.Errorf("chart option: %w", err)
	}
	return template.JS(b), nil
}

// pivot returns the x categories and, per series, one value per category.
// Without a series column each y column is a series; with one, each distinct
// value of it is a series of the single y column.
func pivot(t *output.Table, xi int, yi []int, si int) (cats []string, series [][]any, names []string) {
	pos := map[string]int{}
	for _, r := range t.Rows {
		k := category(r[xi])
		if _, ok := pos[k]; !ok {
			pos[k] = len(cats)
			cats = append(cats, k)
		}
	}
	if si < 0 {
		for _, y := range yi {
			vals := blank(len(cats))
			for _, r := range t.Rows {
				if v, ok := number(r[y]); ok {
					vals[pos[category(r[xi])]] = v
				}
			}
			series = append(series, vals)
			names = append(names, t.Columns[y])
		}
		return cats, series, names
	}
	spos := map[string]int{}
	for _, r := range t.Rows {
		s := category(r[si])
		k, ok := spos[s]
		if !ok {
			k = len(names)
			spos[s] = k
			names = append(names, s)
			series = append(series, blank(len(cats)))
		}
		if v, ok := number(r[yi[0]]); ok {
			series[k][pos[category(r[xi])]] = v
		}
	}
	return cats, series, names
}

// blank returns n missing values; ECharts draws "-" as a gap.
func blank(n int) []any {
	v := make([]any, n)
	for i := range v {
		v[i] = "-"
	}
	return v
}

func colIndex(t *output.Table, name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// number reads a numeric cell. NULL, NaN and non-numbers are not numbers.
func number(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case nil:
		return 0, false
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case *big.Int:
		f, _ = new(big.Float).SetInt(x).Float64()
	case interface{ Float64() float64 }:
		f = x.Float64()
	case string:
		var err error
		if f, err = strconv.ParseFloat(x, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// category renders an x value. Times are UTC, as short as they can be
// without losing a second: a date at midnight, minutes when the seconds are
// zero.
func category(v any) string {
	if t, ok := v.(time.Time); ok {
		t = t.UTC()
		switch {
		case t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0:
			return t.Format("2006-01-02")
		case t.Second() == 0 && t.Nanosecond() == 0:
			return t.Format("2006-01-02 15:04")
		case t.Nanosecond() == 0:
			return t.Format("2006-01-02 15:04:05")
		}
		return t.Format("2006-01-02 15:04:05.999999")
	}
	return output.Text(v)
}

// label turns a column name into a heading: lead_time_median_hours →
// "Lead time median hours".
func label(col string) string {
	s := strings.ReplaceAll(col, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// htmlTableOf renders the table equivalent of a panel.
func htmlTableOf(t *output.Table, columns []string, limit int) (*htmlTable, error) {
	idx := make([]int, 0, len(t.Columns))
	if len(columns) == 0 {
		for i := range t.Columns {
			idx = append(idx, i)
		}
	} else {
		for _, c := range columns {
			i := colIndex(t, c)
			if i < 0 {
				return nil, fmt.Errorf("columns: no column %q in the result (columns: %s)", c, strings.Join(t.Columns, ", "))
			}
			idx = append(idx, i)
		}
	}
	ht := &htmlTable{}
	for _, i := range idx {
		ht.Columns = append(ht.Columns, label(t.Columns[i]))
	}
	for n, r := range t.Rows {
		if limit > 0 && n == limit {
			ht.More = len(t.Rows) - limit
			break
		}
		row := make([]cell, len(idx))
		for k, i := range idx {
			row[k] = cell{Text: cellText(t, t.Columns[i], r[i])}
			if _, ok := number(r[i]); ok {
				row[k].Num = true
			}
			if strings.HasSuffix(t.Columns[i], "_tier") {
				row[k].Tier = output.Text(r[i])
			}
		}
		ht.Rows = append(ht.Rows, row)
	}
	return ht, nil
}
