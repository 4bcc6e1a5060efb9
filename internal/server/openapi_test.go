package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The OpenAPI document lists exactly the routes the server registers, and
// it is a valid OpenAPI 3.1 document by the OpenAPI Initiative's schema.
func TestOpenAPIDocument(t *testing.T) {
	h := startServer(t, nil)
	resp, err := http.Get(h.base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}

	// Valid against the vendored OpenAPI 3.1 schema (testdata/OPENAPI-SCHEMA.md).
	schemaFile, err := os.ReadFile("testdata/openapi-3.1-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const id = "https://spec.openapis.org/oas/3.1/schema/2022-10-07"
	if err := c.AddResource(id, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the document is not valid OpenAPI 3.1: %v", err)
	}
	// The check can fail: a document without info is refused.
	var broken map[string]any
	json.Unmarshal(body, &broken)
	delete(broken, "info")
	if sch.Validate(broken) == nil {
		t.Error("the schema accepted a document without info")
	}

	// Every documented operation is served (a GET reaches its handler:
	// 501 here, where no answers are wired, never the mux's 404), and
	// every route of the table is documented.
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	var documented, routed []string
	placeholder := regexp.MustCompile(`\{[^}]+\}`)
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			url := placeholder.ReplaceAllString(path, "lead-time")
			req, _ := http.NewRequest(strings.ToUpper(method), h.base+url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := http.StatusNotImplemented
			if path == "/api/v1/openapi.json" {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Errorf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
			}
			if op["operationId"] == nil || op["x-shiplog-scope"] != "read" {
				t.Errorf("%s %s: operation %v", method, path, op)
			}
		}
	}
	for _, rt := range h.srv.apiRoutes() {
		routed = append(routed, rt.Method+" "+rt.Path)
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("documented %v\nrouted     %v", documented, routed)
	}
	for _, want := range []string{"GET /api/v1/metrics", "GET /api/v1/explain/{metric}", "GET /api/v1/audit",
		"GET /api/v1/queries", "GET /api/v1/queries/{name}", "GET /api/v1/coverage", "GET /api/v1/openapi.json"} {
		if !slices.Contains(documented, want) {
			t.Errorf("%s is not documented", want)
		}
	}
	// A path outside the table is not served.
	if resp, err := http.Get(h.base + "/api/v1/nothing"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/api/v1/nothing: %v %v, want 404", resp.StatusCode, err)
	}

	// The metrics route documents its typed parameters.
	var full map[string]any
	json.Unmarshal(body, &full)
	params := full["paths"].(map[string]any)["/api/v1/metrics"].(map[string]any)["get"].(map[string]any)["parameters"].([]any)
	types := map[string]string{}
	for _, p := range params {
		pm := p.(map[string]any)
		s := pm["schema"].(map[string]any)
		types[pm["name"].(string)] = s["type"].(string)
	}
	for name, typ := range map[string]string{"team": "array", "from": "string", "level": "string", "limit": "integer", "offset": "integer"} {
		if types[name] != typ {
			t.Errorf("metrics parameter %s has type %q, want %q", name, types[name], typ)
		}
	}
}
