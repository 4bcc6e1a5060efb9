package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/shiplog/shiplog/internal/access"
)

// Callers are known by token: serve.tokens (by the SHA-256 of the token),
// the token of serve.token_env (every scope), or, on a loopback server
// with neither, the local caller (every scope, as for any local tool).

// open says every endpoint is open: loopback and no token at all.
func (s *Server) open() bool {
	return s.local && s.token == "" && len(s.tokens) == 0
}

// errNoToken and errBadToken are answered 401.
var (
	errNoToken  = errors.New("a valid bearer token is required (Authorization: Bearer <token>)")
	errBadToken = errors.New("the bearer token is not one this server knows")
)

// identify returns the caller a presented token stands for. Every known
// token is compared, in constant time, so the time taken does not tell
// which one came close.
func (s *Server) identify(presented string, given bool) (access.Token, error) {
	if !given {
		if s.open() {
			return access.Token{Name: "local", Scopes: access.All}, nil
		}
		return access.Token{}, errNoToken
	}
	if s.open() {
		return access.Token{Name: "local", Scopes: access.All}, nil
	}
	var found access.Token
	ok := false
	if s.token != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(s.token)) == 1 {
		found, ok = access.Token{Name: s.opts.Config.Serve.TokenEnv, Scopes: access.All}, true
	}
	sum := access.HashHex(presented)
	for hash, tok := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(sum), []byte(hash)) == 1 {
			found, ok = tok, true
		}
	}
	if !ok {
		return access.Token{}, errBadToken
	}
	return found, nil
}

// caller is who made a request and with what scope, for the log line of
// every request (logRequests).
type caller struct {
	token, scope string
}

type callerKey struct{}

// authorize finds the request's token and the scope it uses for need
// (access.Read or access.Push). teamsOK says the endpoint limits its
// answer to a read:teams= token's teams. On refusal it returns an error
// whose answer is 401 (no or unknown token) or 403 (*access.Denied).
func (s *Server) authorize(r *http.Request, need string, teamsOK bool) (access.Token, access.Scope, error) {
	presented, given := bearer(r.Header.Get("Authorization"))
	tok, err := s.identify(presented, given)
	if err != nil {
		return tok, access.Scope{}, err
	}
	c, _ := r.Context().Value(callerKey{}).(*caller)
	if c != nil {
		c.token = tok.Name
	}
	used, err := tok.Grant(need, teamsOK)
	if err != nil {
		return tok, used, err
	}
	if c != nil {
		c.scope = used.String()
	}
	return tok, used, nil
}

// authStatus is the HTTP status of an authorize error.
func authStatus(err error) int {
	var denied *access.Denied
	if errors.As(err, &denied) {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// requireScope guards a page or /metrics: a token with need (read), or
// the local caller of an open loopback server. A read:teams= token is
// not enough: these answer about every team.
func (s *Server) requireScope(need string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := s.authorize(r, need, false); err != nil {
			code := authStatus(err)
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="shiplog"`)
			}
			http.Error(w, err.Error(), code)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// requirePush guards the push API (/api/v1/events, /api/v1/cdevents).
// The rule: while serve.tokens lists no token, a push is authenticated by
// its HMAC signature alone, as before tokens had scopes; once any token
// is listed, a push needs both the signature and a bearer token with the
// push (or admin) scope, so that holding the shared webhook secret alone
// no longer lets anyone write. Webhooks from GitHub, GitLab and PagerDuty
// cannot send a bearer token and stay authenticated by their signatures.
func (s *Server) requirePush(endpoint string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.tokens) == 0 {
			h.ServeHTTP(w, r)
			return
		}
		if _, _, err := s.authorize(r, access.Push, false); err != nil {
			code := authStatus(err)
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="shiplog"`)
			}
			s.replyError(w, endpoint, code, err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status of an answer for the log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests writes one line per request: method, path (without the
// query string), status, and the name of the token and the scope used
// ("-" where none was checked: health, signed webhooks). The token itself
// is never written.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &caller{token: "-", scope: "-"}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		fmt.Fprintf(s.opts.Log, "serve: %s %s %d token=%s scope=%s\n", r.Method, r.URL.Path, code, c.token, c.scope)
	})
}

// flightCheck authenticates a Flight SQL call: raw SQL needs the read
// scope over every team (or admin); a read:teams= token is refused, since
// SQL cannot be limited to some teams' rows.
func (s *Server) flightCheck(presented string) error {
	tok, err := s.identify(presented, presented != "")
	if err != nil {
		return err
	}
	used, err := tok.Grant(access.Read, false)
	if err != nil {
		var d *access.Denied
		if errors.As(err, &d) {
			d.Why = "raw SQL over Flight SQL reads every team's rows, so a scope limited to teams is not enough"
		}
		fmt.Fprintf(s.opts.Log, "serve: flight sql refused token=%s: %v\n", tok.Name, err)
		return err
	}
	fmt.Fprintf(s.opts.Log, "serve: flight sql token=%s scope=%s\n", tok.Name, used)
	return nil
}
