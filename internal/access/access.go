// Package access is the vocabulary of serve's tokens: the scopes a token
// may hold (read, read:teams=a,b, push, admin), what each allows, and the
// error that names the scope a request lacked. The configuration checks
// scopes with Parse; the server and the read API decide with Grant.
package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Scope kinds.
const (
	Read  = "read"
	Push  = "push"
	Admin = "admin"
)

// Scope is one parsed scope.
type Scope struct {
	// Kind is Read, Push or Admin.
	Kind string
	// Teams, for a read scope, are the only teams whose services it may
	// read (trimmed, lower-cased); nil means every team.
	Teams []string
}

// Parse reads "read", "read:teams=a,b", "push" or "admin".
func Parse(s string) (Scope, error) {
	s = strings.TrimSpace(s)
	switch s {
	case Read, Push, Admin:
		return Scope{Kind: s}, nil
	}
	list, ok := strings.CutPrefix(s, "read:teams=")
	if !ok {
		return Scope{}, fmt.Errorf("scope %q is not one of read, read:teams=TEAM[,TEAM…], push, admin", s)
	}
	var teams []string
	for _, t := range strings.Split(list, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			return Scope{}, fmt.Errorf("scope %q names an empty team", s)
		}
		if !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	return Scope{Kind: Read, Teams: teams}, nil
}

// String renders the scope as configured.
func (s Scope) String() string {
	if s.Kind == Read && s.Teams != nil {
		return "read:teams=" + strings.Join(s.Teams, ",")
	}
	return s.Kind
}

// Token is a caller known by name: a configured token, the all-scopes
// token of serve.token_env, or the local caller of a loopback server
// without tokens.
type Token struct {
	Name   string
	Scopes []Scope
}

// All is every scope: the serve.token_env token's and the local caller's.
var All = []Scope{{Kind: Admin}}

// HashHex is the hex SHA-256 of a token, as serve.tokens lists it.
func HashHex(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Names lists the token's scopes ("read:teams=payments, push").
func (t Token) Names() string {
	parts := make([]string, len(t.Scopes))
	for i, s := range t.Scopes {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// Grant is what a token may do for a request that needs the scope kind
// need (Read or Push). It returns the scope used and, for a read limited
// to teams, those teams (nil: every team). teamsOK says whether the
// endpoint can limit its answer to teams; where it cannot, a team-limited
// read scope is not enough.
func (t Token) Grant(need string, teamsOK bool) (used Scope, err error) {
	var limited *Scope
	for _, s := range t.Scopes {
		switch {
		case s.Kind == Admin:
			return s, nil
		case s.Kind == need && (need != Read || s.Teams == nil):
			return s, nil
		case s.Kind == Read && need == Read && teamsOK:
			if limited == nil {
				c := s
				limited = &c
			} else { // two team-limited scopes: the union of their teams
				for _, team := range s.Teams {
					if !slices.Contains(limited.Teams, team) {
						limited.Teams = append(limited.Teams, team)
					}
				}
			}
		}
	}
	if limited != nil {
		return *limited, nil
	}
	why := ""
	if need == Read && !teamsOK && slices.ContainsFunc(t.Scopes, func(s Scope) bool { return s.Kind == Read }) {
		why = "this endpoint answers about every team, so a scope limited to teams is not enough"
	}
	return Scope{}, &Denied{Need: need, Token: t.Name, Has: t.Names(), Why: why}
}

// Denied is a request refused for want of a scope (HTTP 403, gRPC
// PermissionDenied). Its text names the missing scope and the token by
// name, never the token.
type Denied struct {
	// Need is the missing scope ("read", "read:teams=checkout", "push").
	Need  string
	Token string
	Has   string
	Why   string
}

func (e *Denied) Error() string {
	has := e.Has
	if has == "" {
		has = "no scope"
	}
	msg := fmt.Sprintf("missing scope %s: token %q has %s", e.Need, e.Token, has)
	if e.Why != "" {
		msg += "; " + e.Why
	}
	return msg
}

// Within checks that teams (the request's, already in the warehouse's
// spelling) are all among allowed; nil allowed allows every team.
func Within(tok string, allowed, teams []string) error {
	if allowed == nil {
		return nil
	}
	for _, t := range teams {
		if !slices.Contains(allowed, strings.ToLower(strings.TrimSpace(t))) {
			return &Denied{Need: "read:teams=" + t, Token: tok, Has: (Scope{Kind: Read, Teams: allowed}).String()}
		}
	}
	return nil
}
