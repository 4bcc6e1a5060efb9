package jira

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeJira imitates the REST v2 endpoints the source calls, in either
// flavour: Data Center (/search with startAt/total; no /changelog
// endpoint) or Cloud (/search/jql with nextPageToken/isLast; /search
// answers 410 Gone as Cloud does since its removal).
type fakeJira struct {
	t      testing.TB
	flavor string
	zone   string // the account's time zone (/myself)
	auth   string // the Authorization header every request must carry

	// issues by project key; the JQL's "project = KEY" picks the list.
	issues     map[string][]json.RawMessage
	changelogs map[string][]json.RawMessage // full changelog by issue key
	versions   map[string]json.RawMessage   // answer of /project/KEY/versions
	// reconciliation answers of /issue/KEY: deleted → 404, moved → new key.
	deleted map[string]bool
	moved   map[string]string
	// hidden keys are left out of search answers (they no longer match).
	hidden map[string]bool

	// faults: path → statuses answered (in order) before the real answer.
	faults     map[string][]int
	retryAfter string

	mu       sync.Mutex
	heads    map[string][]issueHead // parsed issues by project, for filtering
	requests []string               // "PATH?QUERY" of each request
	jqls     []string               // the JQL of each search
}

func newFake(t testing.TB, flavor string) *fakeJira {
	f := &fakeJira{
		t: t, flavor: flavor, zone: "Europe/Berlin",
		issues: map[string][]json.RawMessage{}, changelogs: map[string][]json.RawMessage{},
		versions: map[string]json.RawMessage{}, deleted: map[string]bool{}, moved: map[string]string{},
		hidden: map[string]bool{}, faults: map[string][]int{},
	}
	f.issues["OPS"] = readArray(t, "incidents.json")
	f.issues["CAB"] = readArray(t, "change_requests.json")
	f.issues["SUP"] = readArray(t, "support_tickets.json")
	f.changelogs["OPS-3"] = readArray(t, "changelog_OPS-3.json")
	f.versions["PAY"] = readFile(t, "versions_PAY.json")
	f.versions["WEB"] = readFile(t, "versions_WEB.json")
	return f
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readArray(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	var a []json.RawMessage
	if err := json.Unmarshal(readFile(t, name), &a); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

func (f *fakeJira) start() *httptest.Server {
	srv := httptest.NewServer(f)
	f.t.Cleanup(srv.Close)
	return srv
}

func (f *fakeJira) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jiraError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errorMessages": []string{msg}, "errors": map[string]string{}})
}

var (
	projectRe = regexp.MustCompile(`project = ([A-Z0-9]+)`)
	updatedRe = regexp.MustCompile(`updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)"`)
)

func (f *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.Path+"?"+r.URL.RawQuery)
	if q := f.faults[r.URL.Path]; len(q) > 0 {
		status := q[0]
		f.faults[r.URL.Path] = q[1:]
		f.mu.Unlock()
		if f.retryAfter != "" && status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		jiraError(w, status, fmt.Sprintf("injected %d", status))
		return
	}
	f.mu.Unlock()
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		jiraError(w, http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
		return
	}
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case p == "/rest/api/2/myself":
		writeJSON(w, 200, map[string]any{"name": "ops-bot", "emailAddress": "ops-bot@acme.com", "displayName": "Ops Bot",
			"active": true, "timeZone": f.zone})
	case p == "/rest/api/2/search" && f.flavor == "cloud":
		jiraError(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")
	case p == "/rest/api/2/search" || (p == "/rest/api/2/search/jql" && f.flavor == "cloud"):
		f.search(w, r, q)
	case strings.HasPrefix(p, "/rest/api/2/project/") && strings.HasSuffix(p, "/versions"):
		key := strings.TrimSuffix(strings.TrimPrefix(p, "/rest/api/2/project/"), "/versions")
		v, ok := f.versions[key]
		if !ok {
			jiraError(w, 404, "No project could be found with key '"+key+"'.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(v)
	case strings.HasPrefix(p, "/rest/api/2/issue/") && strings.HasSuffix(p, "/changelog"):
		if f.flavor != "cloud" {
			w.WriteHeader(404) // Data Center: no such endpoint
			return
		}
		key := strings.TrimSuffix(strings.TrimPrefix(p, "/rest/api/2/issue/"), "/changelog")
		all := f.changelogs[key]
		start, _ := strconv.Atoi(q.Get("startAt"))
		max := 2 // Cloud may return fewer than asked for; page by 2 to exercise paging
		end := min(start+max, len(all))
		writeJSON(w, 200, map[string]any{
			"self": "https://jira.example.test" + p, "startAt": start, "maxResults": max, "total": len(all),
			"isLast": end >= len(all), "values": all[start:end],
		})
	case strings.HasPrefix(p, "/rest/api/2/issue/"):
		key := strings.TrimPrefix(p, "/rest/api/2/issue/")
		if f.deleted[key] {
			jiraError(w, 404, "Issue does not exist or you do not have permission to see it.")
			return
		}
		if nk, ok := f.moved[key]; ok {
			writeJSON(w, 200, map[string]any{"id": "99", "key": nk, "fields": map[string]any{"project": map[string]any{"key": strings.Split(nk, "-")[0]}}})
			return
		}
		out := map[string]any{"id": "1", "key": key, "fields": map[string]any{"project": map[string]any{"key": strings.Split(key, "-")[0]}}}
		if q.Get("expand") == "changelog" {
			h := f.changelogs[key]
			out["changelog"] = map[string]any{"startAt": 0, "maxResults": len(h), "total": len(h), "histories": h}
		}
		writeJSON(w, 200, out)
	default:
		w.WriteHeader(404)
	}
}

func (f *fakeJira) search(w http.ResponseWriter, r *http.Request, q url.Values) {
	jql := q.Get("jql")
	f.mu.Lock()
	f.jqls = append(f.jqls, jql)
	f.mu.Unlock()
	if strings.Contains(jql, "projct") {
		writeJSON(w, 400, map[string]any{"errorMessages": []string{"Field 'projct' does not exist or you do not have permission to view it."}, "errors": map[string]string{}})
		return
	}
	if q.Get("fields") != "*all" || q.Get("expand") != "changelog" {
		f.t.Errorf("search without fields=*all&expand=changelog: %s", r.URL.RawQuery)
	}
	m := projectRe.FindStringSubmatch(jql)
	if m == nil {
		jiraError(w, 400, "Error in the JQL Query: unsupported by the fake")
		return
	}
	var from time.Time
	if u := updatedRe.FindStringSubmatch(jql); u != nil {
		loc, err := time.LoadLocation(f.zone)
		if err != nil {
			f.t.Fatal(err)
		}
		from, _ = time.ParseInLocation("2006-01-02 15:04", u[1], loc)
	}
	var matched []json.RawMessage
	for i, raw := range f.issues[m[1]] {
		h := f.head(m[1], i)
		if f.hidden[h.Key] {
			continue
		}
		if !from.IsZero() {
			t, _ := time.Parse(jiraTime, h.Fields.Updated)
			if t.Before(from) {
				continue
			}
		}
		matched = append(matched, raw)
	}
	max, _ := strconv.Atoi(q.Get("maxResults"))
	if max <= 0 {
		max = 50
	}
	start := 0
	if f.flavor == "cloud" {
		if tok := q.Get("nextPageToken"); tok != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(tok, "tok-"))
		}
	} else {
		start, _ = strconv.Atoi(q.Get("startAt"))
	}
	start = min(start, len(matched))
	end := min(start+max, len(matched))
	page := matched[start:end]
	if page == nil {
		page = []json.RawMessage{}
	}
	if f.flavor == "cloud" {
		out := map[string]any{"issues": page, "isLast": end >= len(matched)}
		if end < len(matched) {
			out["nextPageToken"] = "tok-" + strconv.Itoa(end)
		}
		writeJSON(w, 200, out)
		return
	}
	writeJSON(w, 200, map[string]any{"expand": "schema,names", "startAt": start, "maxResults": max, "total": len(matched), "issues": page})
}

// head returns the parsed head of issue i of project, parsing each list
// once (the benchmark serves 10,000 issues).
func (f *fakeJira) head(project string, i int) issueHead {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.heads == nil {
		f.heads = map[string][]issueHead{}
	}
	hs := f.heads[project]
	if len(hs) != len(f.issues[project]) {
		hs = make([]issueHead, len(f.issues[project]))
		for j, raw := range f.issues[project] {
			_ = json.Unmarshal(raw, &hs[j])
		}
		f.heads[project] = hs
	}
	return hs[i]
}
