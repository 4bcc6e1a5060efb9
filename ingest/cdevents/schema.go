package cdevents

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// SpecVersion is the CDEvents specification version whose schemas are
// vendored in schema/ (see schema/README.md).
const SpecVersion = "0.4.1"

// schemaFS holds the vendored schemas, loaded by their $id.
//
//go:embed schema/v0.4.1/*.json schema/v0.4.1/links/*.json
var schemaFS embed.FS

// Validator checks CDEvents against the vendored schemas. It is safe for
// concurrent use; the schemas are compiled once.
type Validator struct {
	once    sync.Once
	err     error
	schemas map[string]*jsonschema.Schema // by event type
}

// defaultValidator is shared: compiling the schemas takes a few
// milliseconds, checking an event microseconds.
var defaultValidator = &Validator{}

// NewValidator returns the shared validator.
func NewValidator() *Validator { return defaultValidator }

func (v *Validator) compile() error {
	v.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		// date-time, uri and uri-reference are checked, not only noted.
		c.AssertFormat()
		dir := "schema/v" + SpecVersion
		byFile := map[string]string{} // file → $id
		err := fs.WalkDir(schemaFS, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := schemaFS.ReadFile(p)
			if err != nil {
				return err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			m, _ := doc.(map[string]any)
			id, _ := m["$id"].(string)
			if id == "" {
				return fmt.Errorf("%s: no $id", p)
			}
			byFile[strings.TrimPrefix(p, dir+"/")] = id
			return c.AddResource(id, doc)
		})
		if err != nil {
			v.err = fmt.Errorf("cdevents: vendored schemas: %w", err)
			return
		}
		v.schemas = map[string]*jsonschema.Schema{}
		for typ, file := range Types {
			s, err := c.Compile(byFile[file])
			if err != nil {
				v.err = fmt.Errorf("cdevents: schema %s: %w", path.Join(dir, file), err)
				return
			}
			v.schemas[typ] = s
		}
	})
	return v.err
}

var printer = message.NewPrinter(language.English)

// validate checks ev.Data against the schema of ev.Type and returns an
// *Error naming the first field at fault.
func (v *Validator) validate(ev Event) error {
	if err := v.compile(); err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ev.Data))
	if err != nil {
		return &Error{Where: ev.Where, Field: "data", Msg: "not valid JSON: " + err.Error()}
	}
	err = v.schemas[ev.Type].Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Where: ev.Where, Field: "data", Msg: err.Error()}
	}
	field, msg := fieldOf(ve)
	return &Error{Where: ev.Where, Field: field, Msg: msg + " (CDEvents v" + SpecVersion + " schema of " + ev.Type + ")"}
}

// fieldOf finds the deepest failing location of a validation error and
// says what is wrong there: a missing property names the property, an
// unknown one names it too.
func fieldOf(ve *jsonschema.ValidationError) (string, string) {
	leaf := ve
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if len(e.InstanceLocation) > len(leaf.InstanceLocation) || len(leaf.Causes) > 0 {
				leaf = e
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	loc := append([]string(nil), leaf.InstanceLocation...)
	msg := leaf.ErrorKind.LocalizedString(printer)
	switch k := leaf.ErrorKind.(type) {
	case *kind.Required:
		loc = append(loc, k.Missing[0])
		msg = "missing"
		if len(k.Missing) > 1 {
			msg = "missing (also " + strings.Join(k.Missing[1:], ", ") + ")"
		}
	case *kind.AdditionalProperties:
		loc = append(loc, k.Properties[0])
		msg = "not a field of this event type"
	}
	return dotted(loc), msg
}

// dotted writes a JSON location as subject.content.environment.id or
// context.links[0].linkType.
func dotted(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "data"
	}
	return b.String()
}
