package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The retrospective's timeline has a place for every day of October (31),
// with 0 on days without events, the fixture's events where they fall,
// one colour per kind from the palette, and the freeze of 24–28 October
// shaded and said in words.
func TestTimelineContinuous(t *testing.T) {
	out, _ := writeFixture(t)
	b, err := os.ReadFile(filepath.Join(out, "retro.html"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<script type="application/json" id="chart-1-option">(.*?)</script>`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no timeline chart")
	}
	var opt struct {
		XAxis []struct {
			Data []string `json:"data"`
		} `json:"xAxis"`
		Series []struct {
			Name string `json:"name"`
			Data []struct {
				V any `json:"value"`
			} `json:"data"`
			ItemStyle map[string]any `json:"itemStyle"`
			MarkArea  *struct {
				Data [][]map[string]any `json:"data"`
			} `json:"markArea"`
		} `json:"series"`
	}
	if err := json.Unmarshal(m[1], &opt); err != nil {
		t.Fatal(err)
	}
	days := opt.XAxis[0].Data
	if len(days) != 31 || days[0] != "2026-10-01" || days[30] != "2026-10-31" {
		t.Fatalf("x axis: %d days %v … want every day of October", len(days), days[:3])
	}
	byName := map[string][]any{}
	for _, s := range opt.Series {
		var vals []any
		for _, d := range s.Data {
			vals = append(vals, d.V)
		}
		byName[s.Name] = vals
		if want := eventColors[s.Name]; s.ItemStyle["color"] != want {
			t.Errorf("series %q colour %v, want %s", s.Name, s.ItemStyle["color"], want)
		}
	}
	// 5 October: 3 deployments; 6 October: 1 failed deployment, counted
	// once; 1 October: nothing, drawn as 0.
	if v := byName["deployment"]; v[4] != float64(3) || v[0] != float64(0) || v[6] != float64(2) {
		t.Errorf("deployments per day: %v", v)
	}
	if v := byName["failed deployment"]; v[5] != float64(1) {
		t.Errorf("failed deployments per day: %v", v)
	}
	ma := opt.Series[0].MarkArea
	if ma == nil || len(ma.Data) != 1 || ma.Data[0][0]["xAxis"] != "2026-10-24" || ma.Data[0][1]["xAxis"] != "2026-10-28" || ma.Data[0][0]["name"] != "freeze: quarter close" {
		t.Errorf("freeze shading: %+v", ma)
	}
	if !regexp.MustCompile(`Freeze &#34;quarter close&#34;: 2026-10-24 00:00 to 2026-10-29 00:00 \(shaded\)`).Match(b) {
		t.Errorf("the freeze is not said in words")
	}
}
