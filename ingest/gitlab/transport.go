package gitlab

import (
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
	// Deleted counts raw rows a full sync (--full) removed because the
	// server no longer lists them, per raw table.
	Deleted map[string]int64
	// Skipped lists the projects left out of this run, each with its reason
	// (not found, or no access).
	Skipped []string
	// Partial is set when the run stopped early at a spent rate limit
	// (NoWait) with its cursors saved.
	Partial bool
}

// RateLimitedError is returned when the rate limit is spent and the
// source was told not to wait (--no-wait); Sync turns it into a partial run.
type RateLimitedError = apihttp.RateLimitedError

// limits is GitLab's rate limiting as the shared transport sees it, under
// the client-go client (whose own retries and limiter are turned off):
//
//   - 429 Too Many Requests: wait Retry-After (seconds or an HTTP date),
//     else until RateLimit-Reset (+1 s), else RateLimit-ResetTime (+1 s),
//     else the transport's backoff;
//   - 5xx: the transport's backoff, except 501 (the server does not
//     support the request at all), which is final;
//   - a success that leaves RateLimit-Remaining at 0: the next request
//     waits for RateLimit-Reset before it is sent.
//
// 401, 403 and 404 are final: the source explains them.
var limits = apihttp.Policy{
	Source:      Name,
	SpentWord:   "spent",
	ReachedNote: " (429)",
	Spent: func(resp *http.Response) (time.Time, bool) {
		if resp.StatusCode == http.StatusTooManyRequests {
			return time.Time{}, false
		}
		return apihttp.SpentUntil(resp.Header, "RateLimit-Remaining", "RateLimit-Reset")
	},
	Limit: limitWait,
	Retry: func(status int) bool { return status != http.StatusNotImplemented },
}

// limitWait says how long a 429 asks to wait: Retry-After (seconds or an
// HTTP date), else until RateLimit-Reset plus a second against clock skew.
// ok is false when the answer says neither.
func limitWait(resp *http.Response, now time.Time) (apihttp.Limit, bool) {
	if resp.StatusCode != http.StatusTooManyRequests {
		return apihttp.Limit{}, false
	}
	if wait, at, ok := apihttp.RetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return apihttp.Limit{Wait: wait, Reset: at}, true
	}
	if at, ok := apihttp.UnixTime(resp.Header, "RateLimit-Reset"); ok {
		return apihttp.Limit{Wait: apihttp.UntilReset(at, now), Reset: at}, true
	}
	if at, err := http.ParseTime(resp.Header.Get("RateLimit-ResetTime")); err == nil {
		return apihttp.Limit{Wait: apihttp.UntilReset(at, now), Reset: at}, true
	}
	return apihttp.Limit{}, false
}
