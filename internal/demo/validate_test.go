package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
)

// record is one decoded line with its position, for error messages.
type record struct {
	file string
	line int
	m    map[string]any
}

func (r record) str(f string) string {
	s, _ := r.m[f].(string)
	return s
}

func (r record) strs(f string) []string {
	var out []string
	if l, ok := r.m[f].([]any); ok {
		for _, v := range l {
			s, _ := v.(string)
			out = append(out, s)
		}
	}
	return out
}

func (r record) time(f string) time.Time {
	t, _ := time.Parse(time.RFC3339, r.str(f))
	return t
}

func (r record) boolean(f string) bool { b, _ := r.m[f].(bool); return b }

func (r record) num(f string) float64 { n, _ := r.m[f].(float64); return n }

func (r record) has(f string) bool { _, ok := r.m[f]; return ok }

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// validateLine checks one JSON line against its canonical kind: the kind
// matches the file, every field is known and of its declared type, required
// fields are present, enums hold, times are RFC 3339 with an offset.
func validateLine(kind *canonical.Kind, raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m["kind"] != kind.Name {
		return nil, fmt.Errorf("kind %v, want %s", m["kind"], kind.Name)
	}
	for name, v := range m {
		if name == "kind" {
			continue
		}
		f, ok := kind.Field(name)
		if !ok {
			return nil, fmt.Errorf("unknown field %q", name)
		}
		if v == nil {
			return nil, fmt.Errorf("field %s: null", name)
		}
		if err := checkType(f, v); err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
	}
	for _, f := range kind.Fields {
		if _, ok := m[f.Name]; f.Required && !ok {
			return nil, fmt.Errorf("missing required field %s", f.Name)
		}
		if f.OneOf != "" {
			_, a := m[f.Name]
			_, b := m[f.OneOf]
			if !a && !b {
				return nil, fmt.Errorf("needs %s or %s", f.Name, f.OneOf)
			}
		}
	}
	// Re-decode with plain numbers for the checks that follow.
	var plain map[string]any
	if err := json.Unmarshal(raw, &plain); err != nil {
		return nil, err
	}
	return plain, nil
}

func checkType(f canonical.Field, v any) error {
	switch f.Type {
	case canonical.Text:
		s, ok := v.(string)
		if !ok || s == "" {
			return fmt.Errorf("want non-empty text, got %v", v)
		}
		if len(f.Enum) > 0 && !contains(f.Enum, s) {
			return fmt.Errorf("%q not in %v", s, f.Enum)
		}
	case canonical.Int:
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("want integer, got %v", v)
		}
		if _, err := n.Int64(); err != nil {
			return fmt.Errorf("want integer, got %v", v)
		}
	case canonical.Float:
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("want number, got %v", v)
		}
		if _, err := n.Float64(); err != nil {
			return err
		}
	case canonical.Bool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want boolean, got %v", v)
		}
	case canonical.Time:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want time, got %v", v)
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return err
		}
	case canonical.Date:
		s, ok := v.(string)
		if !ok || !dateRE.MatchString(s) {
			return fmt.Errorf("want date, got %v", v)
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return err
		}
	case canonical.TextList:
		l, ok := v.([]any)
		if !ok || len(l) == 0 {
			return fmt.Errorf("want non-empty list of text, got %v", v)
		}
		for _, x := range l {
			if s, ok := x.(string); !ok || s == "" {
				return fmt.Errorf("want text in list, got %v", x)
			}
		}
	default:
		return fmt.Errorf("unexpected type %v", f.Type)
	}
	return nil
}

// dataset is a generated directory read back and validated.
type dataset map[string][]record

func readDataset(t testing.TB, dir string) dataset {
	t.Helper()
	ds := dataset{}
	for _, k := range canonical.Kinds {
		k := k
		name := filepath.Join(dir, FileName(k.Name))
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		line := 0
		for sc.Scan() {
			line++
			m, err := validateLine(&k, sc.Bytes())
			if err != nil {
				t.Fatalf("%s:%d: %v", name, line, err)
			}
			ds[k.Name] = append(ds[k.Name], record{file: name, line: line, m: m})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return ds
}

// index maps a kind's records by a field.
func (ds dataset) index(kind, field string) map[string]record {
	out := map[string]record{}
	for _, r := range ds[kind] {
		out[r.str(field)] = r
	}
	return out
}

func TestValidatorRejectsBadRecords(t *testing.T) {
	dep, _ := canonical.Lookup("deployment")
	good := `{"kind":"deployment","id":"d1","service":"s","environment":"production","finished_at":"2026-10-01T10:00:00+02:00","status":"success"}`
	if _, err := validateLine(dep, []byte(good)); err != nil {
		t.Fatalf("good record refused: %v", err)
	}
	bad := []string{
		`{"kind":"deployment","id":"d1","service":"s","environment":"production","status":"success"}`,                                            // no finished_at
		`{"kind":"deployment","id":"d1","service":"s","environment":"production","finished_at":"2026-10-01T10:00:00","status":"success"}`,        // no offset
		`{"kind":"deployment","id":"d1","service":"s","environment":"production","finished_at":"2026-10-01T10:00:00Z","status":"ok"}`,            // enum
		`{"kind":"deployment","id":"d1","service":"s","environment":"production","finished_at":"2026-10-01T10:00:00Z","status":"success","x":1}`, // unknown
		`{"kind":"change","id":"d1"}`, // wrong kind
	}
	for _, b := range bad {
		if _, err := validateLine(dep, []byte(b)); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
}
