package file

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
)

// docs/data-model.md documents every canonical field: each kind has a
// section whose table lists exactly its fields, in order, with the type and
// whether it is required, and names its natural key.
func TestDataModelDocListsEveryField(t *testing.T) {
	raw, err := os.ReadFile("../../docs/data-model.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([^|]+) \\| ([^|]+) \\|")
	for _, k := range canonical.Kinds {
		heading := fmt.Sprintf("### `%s` → `%s`\n", k.Name, k.Table)
		start := strings.Index(doc, heading)
		if start < 0 {
			t.Errorf("no section %q", strings.TrimSpace(heading))
			continue
		}
		section := doc[start+len(heading):]
		if end := strings.Index(section, "\n#"); end >= 0 {
			section = section[:end]
		}
		key := "Natural key: `source`, `" + strings.Join(k.Key, "`, `") + "`."
		if !strings.Contains(section, key) {
			t.Errorf("%s: natural key line %q missing", k.Name, key)
		}
		var got, want []string
		for _, m := range row.FindAllStringSubmatch(section, -1) {
			got = append(got, m[1]+" "+strings.TrimSpace(m[2])+" "+strings.TrimSpace(m[3]))
		}
		for _, f := range k.Fields {
			req := "no"
			switch {
			case f.Required:
				req = "yes"
			case f.OneOf != "":
				req = "one of"
			}
			want = append(want, f.Name+" "+f.Type.String()+" "+req)
			for _, e := range f.Enum {
				if !strings.Contains(section, "`"+e+"`") {
					t.Errorf("%s.%s: enum value %q not documented", k.Name, f.Name, e)
				}
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s fields:\n got  %s\n want %s", k.Name, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
		}
	}
	for _, table := range []string{"ingest_runs", "rejects", "source_state", "shiplog_schema"} {
		if !strings.Contains(doc, "### `"+table+"`") {
			t.Errorf("no section for %s", table)
		}
	}
	if !strings.Contains(doc, "\n## Marts\n") {
		t.Error("no Marts heading")
	}
}
