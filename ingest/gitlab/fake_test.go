package gitlab

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitLab imitates the parts of the GitLab REST API (v4) the source
// uses. It serves testdata/api/<path>.json for GET /api/v4/<path> (the path
// as sent, with project paths URL-encoded: projects/acme%2Fpayments/…),
// and for lists does what GitLab does with the query: updated_after
// (inclusive), order_by=updated_at&sort=desc, state, issue_type and labels
// filters, then offset pagination by per_page and page with the X-Page,
// X-Per-Page, X-Total, X-Total-Pages, X-Next-Page, X-Prev-Page and Link
// headers. Every 200 carries a weak ETag of its body and a matching
// If-None-Match is answered 304. RateLimit-* headers count down from 2000.
type fakeGitLab struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string][]byte
	// fault, when set, may answer a request instead of the route (n is the
	// 1-based number of the request).
	fault     func(w http.ResponseWriter, r *http.Request, n int) bool
	requests  int
	remaining int
	reset     time.Time
	paths     []string
	tokens    map[string]int // PRIVATE-TOKEN / Authorization values seen
}

func newFakeGitLab(t testing.TB) *fakeGitLab {
	t.Helper()
	f := newFake(t, map[string][]byte{})
	root := filepath.Join("testdata", "api")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		f.routes["/api/v4/"+strings.TrimSuffix(filepath.ToSlash(rel), ".json")] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newFake serves routes (escaped path → JSON body).
func newFake(t testing.TB, routes map[string][]byte) *fakeGitLab {
	f := &fakeGitLab{t: t, routes: routes, remaining: 2000, reset: fixedNow.Add(time.Minute), tokens: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// set replaces the answer of GET /api/v4/<path> with v marshalled.
func (f *fakeGitLab) set(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.routes["/api/v4/"+path] = b
	f.mu.Unlock()
}

// list returns the array served at path.
func (f *fakeGitLab) list(path string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	if err := json.Unmarshal(f.routes["/api/v4/"+path], &out); err != nil {
		f.t.Fatalf("%s: %v", path, err)
	}
	return out
}

func (f *fakeGitLab) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *fakeGitLab) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	key := r.URL.EscapedPath()
	f.paths = append(f.paths, key+"?"+r.URL.RawQuery)
	if v := r.Header.Get("PRIVATE-TOKEN"); v != "" {
		f.tokens["PRIVATE-TOKEN: "+v]++
	}
	if v := r.Header.Get("Authorization"); v != "" {
		f.tokens["Authorization: "+v]++
	}
	fault := f.fault
	body, ok := f.routes[key]
	f.mu.Unlock()
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		fmt.Fprint(w, `{"message":"405 Method Not Allowed"}`)
		return
	}
	if fault != nil && fault(w, r, n) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=0, private, must-revalidate")
	w.Header().Set("RateLimit-Name", "throttle_authenticated_api")
	w.Header().Set("RateLimit-Limit", "2000")
	setDefault(w, "RateLimit-Reset", strconv.FormatInt(f.reset.Unix(), 10))
	setDefault(w, "RateLimit-ResetTime", f.reset.UTC().Format(http.TimeFormat))
	if !ok {
		f.mu.Lock()
		f.remaining--
		setDefault(w, "RateLimit-Remaining", strconv.Itoa(f.remaining))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		msg := "404 Not found"
		if strings.HasPrefix(key, "/api/v4/projects/") {
			msg = "404 Project Not Found"
		} else if strings.HasPrefix(key, "/api/v4/groups/") {
			msg = "404 Group Not Found"
		}
		fmt.Fprintf(w, `{"message":%q}`, msg)
		return
	}
	out := body
	var arr []json.RawMessage
	if json.Unmarshal(body, &arr) == nil {
		arr = filterList(arr, r.URL.Query())
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if page < 1 {
			page = 1
		}
		if perPage < 1 {
			perPage = 20
		}
		last := max((len(arr)+perPage-1)/perPage, 1)
		lo := min((page-1)*perPage, len(arr))
		hi := min(lo+perPage, len(arr))
		out, _ = json.Marshal(append([]json.RawMessage{}, arr[lo:hi]...))
		h := w.Header()
		h.Set("X-Page", strconv.Itoa(page))
		h.Set("X-Per-Page", strconv.Itoa(perPage))
		h.Set("X-Total", strconv.Itoa(len(arr)))
		h.Set("X-Total-Pages", strconv.Itoa(last))
		h.Set("X-Next-Page", "")
		h.Set("X-Prev-Page", "")
		if page < last {
			h.Set("X-Next-Page", strconv.Itoa(page+1))
		}
		if page > 1 {
			h.Set("X-Prev-Page", strconv.Itoa(page-1))
		}
		h.Set("Link", linkHeader(f.srv.URL, r, page, last))
	}
	sum := sha1.Sum(out)
	etag := `W/"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	f.mu.Lock()
	if r.Header.Get("If-None-Match") == etag {
		f.remaining--
		setDefault(w, "RateLimit-Remaining", strconv.Itoa(f.remaining))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f.remaining--
	setDefault(w, "RateLimit-Remaining", strconv.Itoa(f.remaining))
	f.mu.Unlock()
	w.Write(out)
}

// filterList applies the list filters and order GitLab applies.
func filterList(arr []json.RawMessage, q url.Values) []json.RawMessage {
	type item struct {
		raw       json.RawMessage
		ID        int64     `json:"id"`
		UpdatedAt time.Time `json:"updated_at"`
		State     string    `json:"state"`
		IssueType string    `json:"issue_type"`
		Labels    []string  `json:"labels"`
	}
	var after time.Time
	if v := q.Get("updated_after"); v != "" {
		after, _ = time.Parse(time.RFC3339Nano, v)
	}
	var items []item
	for _, raw := range arr {
		var it item
		json.Unmarshal(raw, &it)
		it.raw = raw
		if !after.IsZero() && it.UpdatedAt.Before(after) {
			continue
		}
		if s := q.Get("state"); s != "" && s != "all" && it.State != s {
			continue
		}
		if t := q.Get("issue_type"); t != "" && it.IssueType != t {
			continue
		}
		if l := q.Get("labels"); l != "" {
			found := false
			for _, x := range it.Labels {
				found = found || strings.EqualFold(x, l)
			}
			if !found {
				continue
			}
		}
		items = append(items, it)
	}
	if q.Get("order_by") == "updated_at" {
		desc := q.Get("sort") != "asc"
		sort.SliceStable(items, func(i, j int) bool {
			a, b := items[i], items[j]
			if !a.UpdatedAt.Equal(b.UpdatedAt) {
				return a.UpdatedAt.After(b.UpdatedAt) == desc
			}
			return (a.ID > b.ID) == desc
		})
	}
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = it.raw
	}
	return out
}

func linkHeader(base string, r *http.Request, page, last int) string {
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, base, r.URL.EscapedPath(), q.Encode(), rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, link(page-1, "prev"))
	}
	if page < last {
		parts = append(parts, link(page+1, "next"))
	}
	parts = append(parts, link(1, "first"), link(last, "last"))
	return strings.Join(parts, ", ")
}

// setDefault sets a header unless a fault already set it.
func setDefault(w http.ResponseWriter, k, v string) {
	if w.Header().Get(k) == "" {
		w.Header().Set(k, v)
	}
}
