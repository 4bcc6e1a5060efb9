package ingest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// A redirect from the configured API to another host is followed without
// the credential; a redirect that stays on the origin keeps it.
func TestCredentialsStayOnOrigin(t *testing.T) {
	var otherAuth, sameAuth string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherAuth = r.Header.Get("Authorization")
		io.WriteString(w, "elsewhere")
	}))
	defer other.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/stolen", http.StatusFound)
		case "/stay":
			http.Redirect(w, r, api.URL+"/here", http.StatusFound)
		case "/here":
			sameAuth = r.Header.Get("Authorization")
		}
	}))
	defer api.Close()
	origin, _ := url.Parse(api.URL)
	hc := &http.Client{Transport: &Credentials{Origin: origin, Set: func(h http.Header) {
		h.Set("Authorization", "Bearer s3cret")
	}}}

	for _, tc := range []struct {
		path string
		got  *string
		want string
	}{
		{"/away", &otherAuth, ""},
		{"/stay", &sameAuth, "Bearer s3cret"},
	} {
		resp, err := hc.Get(api.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if *tc.got != tc.want {
			t.Errorf("GET %s: the redirect target saw Authorization %q, want %q", tc.path, *tc.got, tc.want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	origin, _ := url.Parse("https://api.example.com/v1")
	for _, tc := range []struct {
		u    string
		want bool
	}{
		{"https://api.example.com/v1/x", true},
		{"https://API.example.com:443/y", true},
		{"http://api.example.com/v1/x", false},
		{"https://api.example.com:8443/v1/x", false},
		{"https://evil.example.com/v1/x", false},
		{"https://api.example.com.evil.test/v1", false},
	} {
		u, _ := url.Parse(tc.u)
		if got := SameOrigin(u, origin); got != tc.want {
			t.Errorf("SameOrigin(%s) = %v, want %v", tc.u, got, tc.want)
		}
	}
}

func TestScrub(t *testing.T) {
	got := Scrub(`{"message":"bad token ghp_abc123 for user"}`, "ghp_abc123", "", "ab")
	want := `{"message":"bad token [redacted] for user"}`
	if got != want {
		t.Errorf("Scrub = %s, want %s", got, want)
	}
}
