package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/apihttp"
)

// client sends REST v2 requests through go-jira's client (base URL handling
// and auth transports) and adds what a sync needs on top: retries of 429 and
// 5xx answers, and errors that say what to check.
type client struct {
	jc       *gojira.Client
	base     string // the configured URL, for messages
	flavor   string
	user     string
	tokenEnv string
	backoff  ingest.Backoff
	sleep    func(context.Context, time.Duration) error
	requests int64 // requests sent, retries included
	// secrets are redacted from Jira's answers before they reach an error
	// (the token, and the Basic credential made of it).
	secrets []string
}

// errNotFound is returned for a 404 answer.
var errNotFound = errors.New("not found")

// get fetches path (relative to the base URL) with query into v.
func (c *client) get(ctx context.Context, path string, query url.Values, v any) error {
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	attempts := c.backoff.Attempts
	if attempts < 1 {
		attempts = 1
	}
	for attempt := 1; ; attempt++ {
		req, err := c.jc.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("jira: %w", err)
		}
		c.requests++
		resp, err := c.jc.Do(req, nil)
		if resp == nil {
			// No answer at all: the network or the address.
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if attempt >= attempts {
				var ue *url.Error
				if errors.As(err, &ue) {
					err = ue.Err
				}
				return fmt.Errorf("jira: cannot reach %s after %d attempts: %w (check sources.jira.url)", c.address(path), attempt, err)
			}
			if err := c.sleep(ctx, c.backoff.Delay(attempt)); err != nil {
				return err
			}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		status := resp.StatusCode
		if status >= 200 && status <= 299 {
			if rerr != nil {
				return fmt.Errorf("jira: GET %s: reading answer: %w", c.address(u), rerr)
			}
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("jira: GET %s: answer is not the expected JSON: %w", c.address(u), err)
			}
			return nil
		}
		retry, wait := false, time.Duration(0)
		switch {
		case status == http.StatusTooManyRequests:
			retry = true
			wait, _, _ = apihttp.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
		case status >= 500:
			retry = true
		}
		if retry && attempt < attempts {
			if wait <= 0 {
				wait = c.backoff.Delay(attempt)
			}
			if err := c.sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		return c.statusError(u, status, body, attempt)
	}
}

func (c *client) address(u string) string {
	return strings.TrimRight(c.base, "/") + "/" + strings.TrimLeft(u, "/")
}

// credential describes (never shows) what the requests authenticate with.
func (c *client) credential() string {
	switch {
	case c.tokenEnv == "":
		return "no credential (anonymous; set token_env, and user for Jira Cloud)"
	case c.user != "":
		return fmt.Sprintf("user %s with the API token in $%s (basic auth)", c.user, c.tokenEnv)
	default:
		return fmt.Sprintf("the personal access token in $%s (bearer)", c.tokenEnv)
	}
}

// jiraMessages returns Jira's own error text from an error body
// ({"errorMessages": [...], "errors": {...}}), or "".
func jiraMessages(body []byte) string {
	var e gojira.Error
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msgs := append([]string(nil), e.ErrorMessages...)
	for k, v := range e.Errors {
		msgs = append(msgs, k+": "+v)
	}
	return strings.Join(msgs, "; ")
}

// statusError explains an error answer, quoting what Jira said with the
// credential redacted (a server may echo it).
func (c *client) statusError(u string, status int, body []byte, attempts int) error {
	return ingest.ScrubError(c.statusErrorRaw(u, status, body, attempts), c.secrets...)
}

func (c *client) statusErrorRaw(u string, status int, body []byte, attempts int) error {
	addr := c.address(u)
	if i := strings.IndexByte(addr, '?'); i >= 0 {
		addr = addr[:i]
	}
	msg := jiraMessages(body)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		s := fmt.Sprintf("jira: %d %s from %s: check the credential: %s", status, http.StatusText(status), addr, c.credential())
		if msg != "" {
			s += " (Jira says: " + msg + ")"
		}
		return errors.New(s)
	case status == http.StatusBadRequest:
		if msg == "" {
			msg = excerpt(body)
		}
		return fmt.Errorf("jira: %s rejected the request (400): %s", addr, msg)
	case status == http.StatusGone && strings.HasSuffix(strings.TrimRight(addr, "/"), "/rest/api/2/search"):
		return fmt.Errorf("jira: %s answered 410 Gone: Jira Cloud removed this search endpoint; set `flavor: cloud` (or --flavor cloud) to use /rest/api/2/search/jql", addr)
	case status == http.StatusNotFound:
		return fmt.Errorf("jira: %s: %w", addr, errNotFound)
	case status == http.StatusTooManyRequests || status >= 500:
		s := fmt.Sprintf("jira: %s answered %d %s after %d attempts; try again later", addr, status, http.StatusText(status), attempts)
		if msg != "" {
			s += " (Jira says: " + msg + ")"
		}
		return errors.New(s)
	default:
		if msg == "" {
			msg = http.StatusText(status)
		}
		return fmt.Errorf("jira: %s answered %d: %s", addr, status, msg)
	}
}

// excerpt returns the start of an answer that is not Jira's JSON (a proxy's
// page, say) on one line, cut at 200 bytes: enough to recognise it, never a
// page dumped into an error.
func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
