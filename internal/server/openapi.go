package server

import (
	"strings"
)

// openAPI is the OpenAPI 3.1 document of the read API, generated from
// apiRoutes, the table that also registers the handlers.
func (s *Server) openAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.apiRoutes() {
		var params []any
		for _, p := range rt.Params {
			params = append(params, paramDoc(p))
		}
		if rt.Pages != "" {
			for _, p := range pagingParams {
				params = append(params, paramDoc(p))
			}
		}
		if rt.FreeParams {
			params = append(params, map[string]any{
				"name": "params", "in": "query", "style": "form", "explode": true,
				"description": "the query's own typed parameters, each as name=value (GET /api/v1/queries lists them); a bad one is answered 400 naming it",
				"schema":      map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
			})
		}
		scope := "Needs a token with the read or admin scope"
		if rt.Teams {
			scope += "; a read:teams= token gets an answer limited to its teams' services"
		} else {
			scope += " (a read:teams= token is refused: the answer covers every team)"
		}
		responses := map[string]any{
			"200": map[string]any{
				"description": "the answer, as the command line's --format json prints it",
				"headers": map[string]any{
					"ETag": map[string]any{"description": "hash of the answer; send it back in If-None-Match", "schema": map[string]any{"type": "string"}},
				},
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}},
			},
			"304": map[string]any{"description": "the answer has not changed since the ETag given in If-None-Match"},
			"400": errorResponse("a bad parameter, named in the error"),
			"401": errorResponse("no bearer token, or one the server does not know"),
			"403": errorResponse("the token lacks the scope the error names"),
			"500": errorResponse("the answer could not be computed"),
		}
		if strings.Contains(rt.Path, "{") {
			responses["404"] = errorResponse("no such name")
		}
		op := map[string]any{
			"operationId":     rt.OperationID,
			"summary":         rt.Summary,
			"description":     scope + ".",
			"responses":       responses,
			"x-shiplog-scope": rt.Scope,
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "shiplog read API",
			"version":     "1",
			"description": "Read-only JSON answers of `shiplog serve`: the same documents as the command line's --format json.",
		},
		"servers":  []any{map[string]any{"url": "/"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{"Error": map[string]any{
				"type": "object", "required": []any{"error"},
				"properties": map[string]any{"error": map[string]any{"type": "string"}},
			}},
		},
		"paths": paths,
	}
}

func errorResponse(desc string) map[string]any {
	return map[string]any{
		"description": desc,
		"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
	}
}

func paramDoc(p APIParam) map[string]any {
	var schema map[string]any
	switch p.Type {
	case "integer":
		schema = map[string]any{"type": "integer", "minimum": 0}
	case "boolean":
		schema = map[string]any{"type": "boolean"}
	case "date":
		schema = map[string]any{"type": "string", "description": "YYYY-MM-DD (UTC midnight) or RFC 3339"}
	default:
		schema = map[string]any{"type": "string"}
	}
	if len(p.Enum) > 0 {
		enum := make([]any, len(p.Enum))
		for i, e := range p.Enum {
			enum[i] = e
		}
		schema["enum"] = enum
	}
	if p.Repeat {
		schema = map[string]any{"type": "array", "items": schema}
	}
	d := map[string]any{"name": p.Name, "in": p.In, "schema": schema}
	if p.Doc != "" {
		d["description"] = p.Doc
	}
	if p.Required || p.In == "path" {
		d["required"] = true
	}
	if p.Repeat {
		d["style"], d["explode"] = "form", true
	}
	return d
}
