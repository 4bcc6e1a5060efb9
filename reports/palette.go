package reports

import (
	"encoding/json"
	"fmt"
	"time"
)

// eventColors is the one palette of event kinds: every chart of every page
// draws a series named after a kind in its colour, so a failed deployment
// is the same red on the retrospective, a dashboard and a team's page, and
// a missing kind cannot shift the others' colours. The tier and pass/fail
// colours of the badges are the CSS variables of the style template.
var eventColors = map[string]string{
	"deployment":        "#2f81b7",
	"rollback":          "#9a6700",
	"hotfix":            "#8250df",
	"failed deployment": "#cf222e",
	"incident":          "#e36209",
}

// freezeColor shades a freeze on a timeline.
const freezeColor = "rgba(87,96,106,0.18)"

// days lists the UTC days of [from, to) as YYYY-MM-DD.
func days(from, to time.Time) []string {
	var out []string
	for d := coverageDay(from); d.Before(to); d = d.AddDate(0, 0, 1) {
		out = append(out, day(d))
	}
	return out
}

// fillDays puts the series on a continuous axis of every day of the page's
// period: a day without a value is 0 when the data covers it and a gap
// ("-") when it does not.
func (pg *page) fillDays(cats []string, series [][]any) ([]string, [][]any) {
	all := days(pg.from, pg.to)
	if len(all) == 0 || len(all) > 3660 {
		return cats, series
	}
	pos := map[string]int{}
	for i, d := range all {
		pos[d] = i
	}
	out := make([][]any, len(series))
	for k, s := range series {
		vals := make([]any, len(all))
		for i, d := range all {
			vals[i] = "-"
			if pg.covered == nil || pg.covered(d) {
				vals[i] = 0
			}
		}
		for j, c := range cats {
			if i, ok := pos[c]; ok {
				if _, gap := s[j].(string); !gap {
					vals[i] = s[j]
				}
			}
		}
		out[k] = vals
	}
	return all, out
}

// decorate colours the series named after event kinds and, on a day axis,
// shades the freezes that overlap the period. option is the ECharts option
// as go-echarts built it.
func (pg *page) decorate(option map[string]any, dayAxis bool) (map[string]any, error) {
	b, err := json.Marshal(option)
	if err != nil {
		return nil, fmt.Errorf("chart option: %w", err)
	}
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("chart option: %w", err)
	}
	series, _ := o["series"].([]any)
	for _, s := range series {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		if c, ok := eventColors[fmt.Sprint(m["name"])]; ok {
			style, _ := m["itemStyle"].(map[string]any)
			if style == nil {
				style = map[string]any{}
			}
			style["color"] = c
			m["itemStyle"] = style
		}
	}
	if dayAxis && len(series) > 0 {
		var areas []any
		for _, f := range pg.freezes {
			s, e := f.Start, f.End
			if s.Before(pg.from) {
				s = pg.from
			}
			if e.After(pg.to) {
				e = pg.to
			}
			if !s.Before(e) {
				continue
			}
			areas = append(areas, []any{
				map[string]any{"name": "freeze: " + f.Name, "xAxis": day(s)},
				map[string]any{"xAxis": day(e.Add(-time.Nanosecond))},
			})
		}
		if len(areas) > 0 {
			if m, ok := series[0].(map[string]any); ok {
				m["markArea"] = map[string]any{
					"silent":    true,
					"itemStyle": map[string]any{"color": freezeColor},
					"label":     map[string]any{"show": true, "position": "insideTop", "color": "#1b1f24"},
					"data":      areas,
				}
			}
		}
	}
	return o, nil
}
