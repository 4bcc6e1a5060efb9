package github

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/shiplog/shiplog/ingest/apihttp"
)

// Stats counts what a run cost (the requests, see apihttp.Counts) and
// wrote.
type Stats struct {
	apihttp.Counts
	// Rows written per raw table in this run.
	Rows map[string]int64
	// Partial is set when the run stopped early at an exhausted rate limit
	// (NoWait) with its cursors saved.
	Partial bool
}

// RateLimitedError is returned when the rate limit is exhausted and the
// source was told not to wait (--no-wait); Sync turns it into a partial run.
type RateLimitedError = apihttp.RateLimitedError

// limits is GitHub's rate limiting as the shared transport sees it (the
// token is added below the transport, by ingest.Credentials, to requests
// for the configured API only):
//
//   - primary rate limit (403 or 429 with X-RateLimit-Remaining: 0): wait
//     until X-RateLimit-Reset (a minute when absent);
//   - secondary rate limit (403 or 429 with Retry-After, or a 403 whose body
//     names the secondary limit): wait Retry-After (60 s when absent);
//   - 429 without either header (go-github v60 does not see 429 as a rate
//     limit) and every 5xx: the transport's backoff;
//   - a success that leaves X-RateLimit-Remaining at 0: the next request
//     waits for the reset before it is sent.
var limits = apihttp.Policy{
	Source:    Name,
	SpentKind: "primary",
	SpentWord: "exhausted",
	Spent: func(resp *http.Response) (time.Time, bool) {
		return apihttp.SpentUntil(resp.Header, "X-RateLimit-Remaining", "X-RateLimit-Reset")
	},
	Limit: classifyLimit,
	Clean: clean,
}

// classifyLimit tells a rate-limit answer from a permission error and says
// how long to wait.
func classifyLimit(resp *http.Response, now time.Time) (apihttp.Limit, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return apihttp.Limit{}, false
	}
	if wait, at, ok := apihttp.RetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return apihttp.Limit{Kind: "secondary", Wait: wait, Reset: at}, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, ok := apihttp.UnixTime(resp.Header, "X-RateLimit-Reset"); ok {
			return apihttp.Limit{Kind: "primary", Wait: apihttp.UntilReset(reset, now), Reset: reset}, true
		}
		return apihttp.Limit{Kind: "primary", Wait: time.Minute, Reset: now.Add(time.Minute)}, true
	}
	if resp.StatusCode == http.StatusForbidden {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) {
			return apihttp.Limit{Kind: "secondary", Wait: time.Minute, Reset: now.Add(time.Minute)}, true
		}
	}
	return apihttp.Limit{}, false // a permission problem, or a bare 429
}

// clean hides a spent X-RateLimit-Remaining from go-github: the transport
// waits for the reset itself, and go-github v60 would otherwise refuse the
// next call without sending it.
func clean(resp *http.Response) {
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		resp.Header.Del("X-RateLimit-Remaining")
	}
}
