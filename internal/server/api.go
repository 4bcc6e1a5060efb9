package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shiplog/shiplog/internal/access"
)

// The HTTP read API answers under /api/v1/ with the JSON documents of the
// command line's --format json. Its routes are one table (apiRoutes): the
// same entries register the handlers and generate the OpenAPI document, so
// a route cannot be served without being described.

// APIParam is one parameter of a read API route.
type APIParam struct {
	Name string
	// In is "query" or "path".
	In string
	// Type is string, integer, date (YYYY-MM-DD or RFC 3339) or boolean.
	Type string
	// Repeat says the parameter may be given more than once.
	Repeat   bool
	Enum     []string
	Required bool
	Doc      string
}

// APIRequest is one checked call of a read API route.
type APIRequest struct {
	// Query holds the query-string parameters (paging ones removed).
	Query url.Values
	// Path holds the path parameters by name.
	Path map[string]string
	// Limit, when set, restricts the answer to these teams' services (a
	// read:teams= token).
	Limit *TeamLimit
}

// TeamLimit is a read limited to some teams: Token names the token in
// refusals.
type TeamLimit struct {
	Token string
	Teams []string
}

// APIFunc answers a read API call with a JSON document. An *APIError
// chooses its status; an *access.Denied is 403; anything else is 500
// with the text in the server's log only.
type APIFunc func(ctx context.Context, req *APIRequest) (map[string]any, error)

// APIError is a refusal with its HTTP status (400 for a bad parameter,
// 404 for an unknown name).
type APIError struct {
	Code int
	Err  error
}

func (e *APIError) Error() string { return e.Err.Error() }
func (e *APIError) Unwrap() error { return e.Err }

// ReadAPI supplies the answers of the read API (`shiplog serve` wires the
// command line's code paths). A nil function answers 501.
type ReadAPI struct {
	Metrics, Explain, Audit, Queries, Query, Coverage APIFunc
	// ExplainMetrics are the metrics explain knows (the path's enum).
	ExplainMetrics []string
}

// APIRoute is one entry of the read API: what registers its handler and
// what the OpenAPI document says of it.
type APIRoute struct {
	Method, Path string
	OperationID  string
	Summary      string
	Params       []APIParam
	// FreeParams says the route also takes parameters of its own (a named
	// query's typed parameters) beyond Params.
	FreeParams bool
	// Scope is the scope a token needs (access.Read).
	Scope string
	// Teams says a read:teams= token may call the route; its answer is
	// then limited to those teams.
	Teams bool
	// Pages names the document's list member that limit and offset page
	// ("" when the answer is not paged).
	Pages  string
	Handle APIFunc
}

// Paging bounds.
const (
	defaultPageLimit = 1000
	maxPageLimit     = 10000
)

var filterParams = []APIParam{
	{Name: "service", In: "query", Type: "string", Repeat: true, Doc: "only this service"},
	{Name: "team", In: "query", Type: "string", Repeat: true, Doc: "only the services of this team"},
	{Name: "department", In: "query", Type: "string", Repeat: true, Doc: "only the services of this department's teams"},
	{Name: "from", In: "query", Type: "date", Doc: "window start, YYYY-MM-DD (UTC midnight) or RFC 3339, inclusive"},
	{Name: "to", In: "query", Type: "date", Doc: "window end, YYYY-MM-DD (UTC midnight) or RFC 3339, exclusive"},
}

var pagingParams = []APIParam{
	{Name: "limit", In: "query", Type: "integer", Doc: fmt.Sprintf("rows per page (default %d, at most %d)", defaultPageLimit, maxPageLimit)},
	{Name: "offset", In: "query", Type: "integer", Doc: "rows to skip; the `next` member of a page links the following one"},
}

// apiRoutes is the read API. The OpenAPI route describes the others and
// itself.
func (s *Server) apiRoutes() []APIRoute {
	api := s.opts.API
	if api == nil {
		api = &ReadAPI{}
	}
	metricsParams := append(slices.Clone(filterParams),
		APIParam{Name: "by", In: "query", Type: "string", Enum: []string{"week", "month", "quarter"}, Doc: "split into periods"},
		APIParam{Name: "level", In: "query", Type: "string", Enum: []string{"service", "team", "department", "org"}, Doc: "row level (default: what service, department or team names)"},
		APIParam{Name: "view", In: "query", Type: "string", Doc: "dora (default) or another view of `shiplog metrics --view`"},
	)
	return []APIRoute{
		{Method: "GET", Path: "/api/v1/metrics", OperationID: "getMetrics", Scope: access.Read, Teams: true, Pages: "rows",
			Summary: "The DORA metrics, as `shiplog metrics --format json`", Params: metricsParams, Handle: api.Metrics},
		{Method: "GET", Path: "/api/v1/explain/{metric}", OperationID: "getExplain", Scope: access.Read, Teams: true, Pages: "rows",
			Summary: "The rows behind a metric, as `shiplog explain METRIC --format json`",
			Params:  append([]APIParam{{Name: "metric", In: "path", Type: "string", Required: true, Enum: api.ExplainMetrics, Doc: "the metric to explain"}}, filterParams...),
			Handle:  api.Explain},
		{Method: "GET", Path: "/api/v1/audit", OperationID: "getAudit", Scope: access.Read,
			Summary: "The governance controls and their findings, as `shiplog audit --format json`",
			Params: []APIParam{
				{Name: "from", In: "query", Type: "date", Doc: "start of the period (default: the last complete month with deployment data)"},
				{Name: "to", In: "query", Type: "date", Doc: "end of the period, exclusive"},
				{Name: "control", In: "query", Type: "string", Repeat: true, Doc: "run only this control"},
			}, Handle: api.Audit},
		{Method: "GET", Path: "/api/v1/queries", OperationID: "listQueries", Scope: access.Read, Teams: true, Pages: "rows",
			Summary: "The named queries and their typed parameters, as `shiplog query --list --format json`", Handle: api.Queries},
		{Method: "GET", Path: "/api/v1/queries/{name}", OperationID: "runQuery", Scope: access.Read, Teams: true, Pages: "rows", FreeParams: true,
			Summary: "Run a named query, its parameters in the query string, as `shiplog query --name NAME --param k=v --format json`",
			Params:  []APIParam{{Name: "name", In: "path", Type: "string", Required: true, Doc: "the query's name (GET /api/v1/queries lists them)"}},
			Handle:  api.Query},
		{Method: "GET", Path: "/api/v1/coverage", OperationID: "getCoverage", Scope: access.Read,
			Summary: "The data range and counts per source and kind, and the last ingest", Handle: api.Coverage},
		{Method: "GET", Path: "/api/v1/openapi.json", OperationID: "getOpenAPI", Scope: access.Read, Teams: true,
			Summary: "This document", Handle: func(context.Context, *APIRequest) (map[string]any, error) { return s.openAPI(), nil }},
	}
}

// registerAPI adds the read API's routes to mux.
func (s *Server) registerAPI(mux *http.ServeMux) {
	for _, rt := range s.apiRoutes() {
		mux.Handle(rt.Method+" "+rt.Path, s.apiHandler(rt))
	}
}

// apiHandler authorises, checks the parameters, answers, pages and tags
// the answer with an ETag.
func (s *Server) apiHandler(rt APIRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, used, err := s.authorize(r, rt.Scope, rt.Teams)
		if err != nil {
			code := authStatus(err)
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="shiplog"`)
			}
			apiError(w, code, err.Error())
			return
		}
		if rt.Handle == nil {
			apiError(w, http.StatusNotImplemented, "this server does not answer "+rt.Path)
			return
		}
		req := &APIRequest{Query: url.Values{}, Path: map[string]string{}}
		if used.Teams != nil {
			req.Limit = &TeamLimit{Token: tok.Name, Teams: used.Teams}
		}
		q := r.URL.Query()
		known := map[string]APIParam{}
		for _, p := range rt.Params {
			if p.In == "path" {
				req.Path[p.Name] = r.PathValue(p.Name)
				if len(p.Enum) > 0 && !slices.Contains(p.Enum, req.Path[p.Name]) {
					apiError(w, http.StatusNotFound, fmt.Sprintf("%s %q is not one of %s", p.Name, req.Path[p.Name], strings.Join(p.Enum, ", ")))
					return
				}
				continue
			}
			known[p.Name] = p
		}
		limit, offset := defaultPageLimit, 0
		paged := false
		names := make([]string, 0, len(q))
		for k := range q {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			vals := q[k]
			if rt.Pages != "" && (k == "limit" || k == "offset") {
				n, err := strconv.Atoi(vals[len(vals)-1])
				switch {
				case err != nil || n < 0:
					apiError(w, http.StatusBadRequest, fmt.Sprintf("parameter %s: %q is not a whole number ≥ 0", k, vals[len(vals)-1]))
					return
				case k == "limit" && (n < 1 || n > maxPageLimit):
					apiError(w, http.StatusBadRequest, fmt.Sprintf("parameter limit: must be between 1 and %d, not %d", maxPageLimit, n))
					return
				case k == "limit":
					limit = n
				default:
					offset = n
				}
				paged = true
				continue
			}
			p, ok := known[k]
			if !ok && !rt.FreeParams {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %s (%s takes: %s)", k, rt.Path, paramNames(rt)))
				return
			}
			if ok {
				if !p.Repeat && len(vals) > 1 {
					apiError(w, http.StatusBadRequest, fmt.Sprintf("parameter %s: given %d times, takes one value", k, len(vals)))
					return
				}
				for _, v := range vals {
					if len(p.Enum) > 0 && !slices.Contains(p.Enum, v) {
						apiError(w, http.StatusBadRequest, fmt.Sprintf("parameter %s: must be one of %s, not %q", k, strings.Join(p.Enum, ", "), v))
						return
					}
				}
			}
			req.Query[k] = vals
		}
		doc, err := rt.Handle(r.Context(), req)
		if err != nil {
			var ae *APIError
			var denied *access.Denied
			switch {
			case errors.As(err, &denied):
				apiError(w, http.StatusForbidden, denied.Error())
			case errors.As(err, &ae):
				apiError(w, ae.Code, ae.Error())
			default:
				fmt.Fprintf(s.opts.Log, "serve: %s: %v\n", rt.Path, err)
				apiError(w, http.StatusInternalServerError, "the answer could not be computed; the server's log has the details")
			}
			return
		}
		if paged || rt.Pages != "" {
			if next := page(doc, rt.Pages, limit, offset, paged); next >= 0 {
				nq := r.URL.Query()
				nq.Set("offset", strconv.Itoa(next))
				nq.Set("limit", strconv.Itoa(limit))
				link := r.URL.Path + "?" + nq.Encode()
				doc["next"] = link
				w.Header().Set("Link", "<"+link+`>; rel="next"`)
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(s.opts.Log, "serve: %s: encode: %v\n", rt.Path, err)
			apiError(w, http.StatusInternalServerError, "the answer could not be encoded; the server's log has the details")
			return
		}
		// The ETag is the hash of the answer itself, but for the moment it
		// was made (generated_at): the same data and the same request give
		// the same tag, any write that changes the answer changes it.
		sum := sha256.Sum256(generatedAt.ReplaceAll(buf.Bytes(), nil))
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "private, no-cache")
		w.Header().Set("Vary", "Authorization")
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(buf.Bytes())
	})
}

// generatedAt matches the line of a generated_at member of an indented
// document (a string value cannot hold a line break, so no data matches).
var generatedAt = regexp.MustCompile(`(?m)^ *"generated_at": "[^"]*",?\n`)

// page cuts doc[member] (a list) to limit rows from offset, and returns
// the offset of the next page, or -1 when this is the last. Without paging
// parameters (paged false) a list that fits one page is left as it is, so
// the document equals the command line's.
func page(doc map[string]any, member string, limit, offset int, paged bool) int {
	rows, ok := doc[member].([]map[string]any)
	if !ok {
		if list, ok2 := doc[member].([]any); ok2 {
			end := min(len(list), offset+limit)
			start := min(offset, len(list))
			doc[member] = list[start:end]
			if end < len(list) {
				return end
			}
		}
		return -1
	}
	if !paged && len(rows) <= limit {
		return -1
	}
	start := min(offset, len(rows))
	end := min(len(rows), offset+limit)
	doc[member] = rows[start:end]
	if end < len(rows) {
		return end
	}
	return -1
}

// etagMatch implements If-None-Match's weak comparison over a list of
// tags or "*".
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func paramNames(rt APIRoute) string {
	var names []string
	for _, p := range rt.Params {
		if p.In == "query" {
			names = append(names, p.Name)
		}
	}
	if rt.Pages != "" {
		names = append(names, "limit", "offset")
	}
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, ", ")
}

// apiError answers {"error": msg}.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
