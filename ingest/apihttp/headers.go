package apihttp

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads a Retry-After value: whole seconds, or an HTTP date
// (RFC 9110). wait is how long that is from now, 0 for a date already
// past; at is when it ends. ok is false when v is neither (empty, a
// fraction, a negative number, a malformed date).
func RetryAfter(v string, now time.Time) (wait time.Duration, at time.Time, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, time.Time{}, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		d := time.Duration(secs) * time.Second
		return d, now.Add(d), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), at, true
	}
	return 0, time.Time{}, false
}

// UnixTime reads a header holding a Unix time in seconds (a reset time,
// such as X-RateLimit-Reset or RateLimit-Reset).
func UnixTime(h http.Header, name string) (time.Time, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// SpentUntil reports the reset time of a budget that the header named
// remaining says is spent ("0"), read from the header named reset as a
// Unix time. ok is false when there is budget left or no reset to wait for.
func SpentUntil(h http.Header, remaining, reset string) (time.Time, bool) {
	if strings.TrimSpace(h.Get(remaining)) != "0" {
		return time.Time{}, false
	}
	return UnixTime(h, reset)
}

// UntilReset is the wait for a limit that resets at reset: one second more
// than the time left, against clock skew, and never less than 0.
func UntilReset(reset, now time.Time) time.Duration {
	return max(reset.Sub(now)+time.Second, 0)
}
