package ingest

import (
	"net/http"
	"net/url"
	"strings"
)

// Credentials is an http.RoundTripper that adds a source's credential to
// the requests it sends to the source's own origin (scheme, host and port of
// the configured address) and to no other. A redirect to another host is
// followed without the credential, so a token never travels to a host the
// user did not configure, whatever the API answers.
//
// Set writes the credential into the headers of a request bound for the
// origin (Authorization: Bearer …, PRIVATE-TOKEN, Token token=…).
type Credentials struct {
	Base   http.RoundTripper
	Origin *url.URL
	Set    func(http.Header)
}

// RoundTrip sends req, with the credential only when it goes to the origin.
func (c *Credentials) RoundTrip(req *http.Request) (*http.Response, error) {
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if c.Set == nil || !SameOrigin(req.URL, c.Origin) {
		return base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	c.Set(r.Header)
	return base.RoundTrip(r)
}

// SameOrigin reports whether u has the scheme, host and port of origin
// (default ports made explicit, host compared case-insensitively).
func SameOrigin(u, origin *url.URL) bool {
	if u == nil || origin == nil {
		return false
	}
	return strings.EqualFold(u.Scheme, origin.Scheme) &&
		strings.EqualFold(u.Hostname(), origin.Hostname()) &&
		port(u) == port(origin)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// Scrub replaces every occurrence of each secret in text with "[redacted]",
// for remote answers that reach stderr, logs or the warehouse: a server may
// echo the credential it was sent. Secrets shorter than four characters are
// left alone (they would redact ordinary words).
func Scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	return text
}
