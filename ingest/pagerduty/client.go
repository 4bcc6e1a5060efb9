package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shiplog/shiplog/ingest"
)

// client is a small typed client of the REST API v2: GET with the version
// header, retries of 5xx answers and network errors with ingest.Backoff,
// waits for 429 answers until ratelimit-reset, and errors that say what to
// check. The token is added by an ingest.Credentials transport, so it only
// ever goes to the configured origin.
type client struct {
	hc       *http.Client
	base     *url.URL // api_url, path ending in "/"
	tokenEnv string
	token    string // for Scrub only; the transport sends it
	backoff  ingest.Backoff
	sleep    func(context.Context, time.Duration) error
	progress io.Writer
	progMu   sync.Mutex
	// maxRateWaits bounds the 429 waits of one request.
	maxRateWaits int

	requests  atomic.Int64
	retries   atomic.Int64
	rateWaits atomic.Int64
}

// acceptHeader asks for version 2 of the REST API.
const acceptHeader = "application/vnd.pagerduty+json;version=2"

// get fetches path (relative to api_url) with query and decodes the JSON
// answer into v (json.RawMessage fields keep objects as received).
func (c *client) get(ctx context.Context, path string, q url.Values, v any) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/" + strings.TrimLeft(path, "/")
	u.RawQuery = q.Encode()
	attempts := max(c.backoff.Attempts, 1)
	waits := 0
	for attempt := 1; ; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return fmt.Errorf("pagerduty: %w", err)
		}
		req.Header.Set("Accept", acceptHeader)
		c.requests.Add(1)
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if attempt >= attempts {
				var ue *url.Error
				if errors.As(err, &ue) {
					err = ue.Err
				}
				return fmt.Errorf("pagerduty: cannot reach %s after %d attempts: %s (check sources.pagerduty.api_url)",
					c.where(&u), attempt, ingest.Scrub(err.Error(), c.token))
			}
			if err := c.retry(ctx, attempt); err != nil {
				return err
			}
			attempt++
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		switch status := resp.StatusCode; {
		case status >= 200 && status <= 299:
			if rerr != nil {
				return fmt.Errorf("pagerduty: GET %s: reading the answer: %w", c.where(&u), rerr)
			}
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("pagerduty: GET %s: the answer is not the expected JSON: %v", c.where(&u), err)
			}
			return nil
		case status == http.StatusTooManyRequests && waits < c.maxRateWaits:
			waits++
			d := rateLimitWait(resp.Header)
			if d <= 0 {
				d = c.backoff.Delay(min(waits, 6))
			}
			c.rateWaits.Add(1)
			c.progMu.Lock()
			fmt.Fprintf(c.progress, "pagerduty: rate limit reached; waiting %s before asking again\n", d.Round(time.Second))
			c.progMu.Unlock()
			if err := c.sleep(ctx, d); err != nil {
				return err
			}
			continue
		case status >= 500 && attempt < attempts:
			if err := c.retry(ctx, attempt); err != nil {
				return err
			}
			attempt++
			continue
		default:
			return c.statusError(&u, status, body, attempt)
		}
	}
}

func (c *client) retry(ctx context.Context, attempt int) error {
	c.retries.Add(1)
	return c.sleep(ctx, c.backoff.Delay(attempt))
}

// rateLimitWait reads how long to wait after a 429: PagerDuty's
// ratelimit-reset (seconds until the window resets), else Retry-After
// (seconds or an HTTP date). One second is added so the request lands in
// the new window.
func rateLimitWait(h http.Header) time.Duration {
	for _, name := range []string{"Ratelimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			return time.Duration(n*float64(time.Second)) + time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return time.Until(t) + time.Second
		}
	}
	return 0
}

// where is the address asked, without the query.
func (c *client) where(u *url.URL) string {
	w := *u
	w.RawQuery = ""
	return w.String()
}

// apiError is PagerDuty's error body: {"error": {"message", "code", "errors"}}.
type apiError struct {
	Error struct {
		Message string   `json:"message"`
		Code    int      `json:"code"`
		Errors  []string `json:"errors"`
	} `json:"error"`
}

// message returns PagerDuty's own error text, with any echo of the token
// redacted.
func (c *client) message(body []byte) string {
	var e apiError
	msg := ""
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
		if len(e.Error.Errors) > 0 {
			msg += ": " + strings.Join(e.Error.Errors, "; ")
		}
	} else {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
	}
	return ingest.Scrub(msg, c.token)
}

func (c *client) statusError(u *url.URL, status int, body []byte, attempts int) error {
	where := c.where(u)
	msg := c.message(body)
	says := ""
	if msg != "" {
		says = " (PagerDuty says: " + msg + ")"
	}
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("pagerduty: 401 Unauthorized from %s: check that $%s holds a valid REST API key (a read-only account or user API key)%s", where, c.tokenEnv, says)
	case status == http.StatusForbidden:
		return fmt.Errorf("pagerduty: 403 Forbidden from %s: the API key in $%s may not read incidents and their log entries%s", where, c.tokenEnv, says)
	case status == http.StatusNotFound:
		return fmt.Errorf("pagerduty: 404 Not Found from %s: check sources.pagerduty.api_url%s", where, says)
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("pagerduty: %s answered %d %s after %d attempts; try again later%s", where, status, http.StatusText(status), attempts, says)
	default:
		return fmt.Errorf("pagerduty: %s answered %d %s%s", where, status, http.StatusText(status), says)
	}
}
