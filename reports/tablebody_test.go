package reports

import (
	"bytes"
	"html/template"
	"math/rand"
	"testing"
)

// rowsTmpl is the row loop of the "table" template, which Body replaces.
var rowsTmpl = template.Must(template.New("rows").Parse(`{{range .Rows}}<tr>{{range .}}<td{{if .Num}} class="num"{{end}}>{{if .Href}}<a href="{{.Href}}">{{.Text}}</a>{{else if .Tier}}<span class="badge {{.Tier}}">{{.Text}}</span>{{else}}{{.Text}}{{end}}</td>{{end}}</tr>
{{end}}`))

// TestTableBodyMatchesTemplate renders tables of awkward text — markup,
// quotes, plus signs, NUL, invalid UTF-8, non-ASCII — through Body and
// through the template loop, and wants the same bytes.
func TestTableBodyMatchesTemplate(t *testing.T) {
	pieces := []string{"", "a", "<script>alert(1)</script>", `"quoted"`, "it's", "a+b", "&amp;", "\x00", "\xff\xfe", "é€😀", "</td>", "--", "{{.}}", " ", "\n", "`", "=", "0.5"}
	rng := rand.New(rand.NewSource(1))
	text := func() string {
		s := ""
		for n := rng.Intn(4); n > 0; n-- {
			s += pieces[rng.Intn(len(pieces))]
		}
		return s
	}
	for round := 0; round < 200; round++ {
		tb := &htmlTable{Columns: []string{"a", "b", "c"}}
		for r := rng.Intn(6); r > 0; r-- {
			row := make([]cell, 3)
			for i := range row {
				row[i] = cell{Text: text(), Num: rng.Intn(2) == 0}
				if rng.Intn(3) == 0 {
					row[i].Tier = text()
				}
			}
			tb.Rows = append(tb.Rows, row)
		}
		var want bytes.Buffer
		if err := rowsTmpl.Execute(&want, tb); err != nil {
			t.Fatal(err)
		}
		if got := string(tb.Body()); got != want.String() {
			t.Fatalf("round %d:\n got %q\nwant %q", round, got, want.String())
		}
	}
}

// TestTableBodyLeavesLinksToTemplate: a table with a link is rendered by
// the template, which escapes URLs.
func TestTableBodyLeavesLinksToTemplate(t *testing.T) {
	tb := &htmlTable{Rows: [][]cell{{{Text: "x", Href: "javascript:alert(1)"}}}}
	if b := tb.Body(); b != "" {
		t.Fatalf("Body rendered a link: %q", b)
	}
	pg := newPage("t", "s", fixedNow.AddDate(0, -1, 0), fixedNow, fixedNow)
	pg.Blocks = []block{{Heading: "h", Table: tb, TableOpen: true}}
	out, err := pg.render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`<a href="#ZgotmplZ">x</a>`)) {
		t.Errorf("unsafe link not filtered by the template")
	}
}
