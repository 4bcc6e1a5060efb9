package access

import (
	"errors"
	"strings"
	"testing"
)

func TestGrant(t *testing.T) {
	parse := func(ss ...string) Token {
		tok := Token{Name: "t"}
		for _, s := range ss {
			sc, err := Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			tok.Scopes = append(tok.Scopes, sc)
		}
		return tok
	}
	tests := []struct {
		scopes   []string
		need     string
		teamsOK  bool
		used     string
		denied   string // the missing scope, "" when granted
		whyTeams bool
	}{
		{scopes: []string{"read"}, need: Read, used: "read"},
		{scopes: []string{"admin"}, need: Read, used: "admin"},
		{scopes: []string{"admin"}, need: Push, used: "admin"},
		{scopes: []string{"push"}, need: Push, used: "push"},
		{scopes: []string{"push"}, need: Read, teamsOK: true, denied: "read"},
		{scopes: []string{"read"}, need: Push, denied: "push"},
		{scopes: []string{"read:teams=Payments"}, need: Read, teamsOK: true, used: "read:teams=payments"},
		{scopes: []string{"read:teams=payments"}, need: Read, teamsOK: false, denied: "read", whyTeams: true},
		{scopes: []string{"read:teams=a", "read:teams=b,a"}, need: Read, teamsOK: true, used: "read:teams=a,b"},
		{scopes: []string{"read:teams=a", "read"}, need: Read, teamsOK: true, used: "read"},
	}
	for _, tt := range tests {
		used, err := parse(tt.scopes...).Grant(tt.need, tt.teamsOK)
		var d *Denied
		switch {
		case tt.denied == "" && (err != nil || used.String() != tt.used):
			t.Errorf("%v for %s: used %s, err %v; want %s", tt.scopes, tt.need, used, err, tt.used)
		case tt.denied != "" && (!errors.As(err, &d) || d.Need != tt.denied || !strings.HasPrefix(err.Error(), "missing scope "+tt.denied+":")):
			t.Errorf("%v for %s: err %v, want missing %s", tt.scopes, tt.need, err, tt.denied)
		case tt.whyTeams && !strings.Contains(err.Error(), "limited to teams is not enough"):
			t.Errorf("%v: %v does not say why the team scope is not enough", tt.scopes, err)
		}
	}
	if err := Within("t", []string{"payments"}, []string{"Payments"}); err != nil {
		t.Errorf("Within a team of the scope: %v", err)
	}
	if err := Within("t", []string{"payments"}, []string{"payments", "checkout"}); err == nil || !strings.Contains(err.Error(), "missing scope read:teams=checkout") {
		t.Errorf("Within another team: %v", err)
	}
	if Within("t", nil, []string{"anything"}) != nil {
		t.Error("an unlimited read refused a team")
	}
}
