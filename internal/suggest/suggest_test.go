package suggest

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	teams := []string{"platform", "payments", "data", "identity", "storefront"}
	tests := []struct {
		name, want, wantErr string
		known               []string
	}{
		{name: "payments", want: "payments", known: teams},
		// trimmed and case-insensitive, answered in the known spelling
		{name: " Payments ", want: "payments", known: teams},
		{name: "paymnts", wantErr: `unknown team "paymnts"; did you mean "payments"?`, known: teams},
		{name: "pamyents", wantErr: `did you mean "payments"?`, known: teams}, // two swaps
		{name: "pay", wantErr: `did you mean "payments"?`, known: teams},      // a prefix
		{name: "dat", wantErr: `did you mean "data"?`, known: teams},
		{name: "zzz", wantErr: `unknown team "zzz"; known: data, identity, payments, platform, storefront`, known: teams},
		{name: "x", wantErr: `unknown team "x": there is no team at all`},
		{name: "api", wantErr: `did you mean one of "apis", "app"?`, known: []string{"web", "apis", "app", "billing"}},
	}
	for _, tt := range tests {
		got, err := Check("team", tt.name, tt.known)
		if tt.wantErr != "" {
			var ue *UnknownError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check(%q) err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Check(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestManyKnownNames(t *testing.T) {
	var known []string
	for _, c := range "abcdefghijklmnopqrstuvwxyz" {
		known = append(known, "service-"+strings.Repeat(string(c), 6))
	}
	_, err := Check("service", "zzzzzzzz-unrelated", known)
	if err == nil || !strings.Contains(err.Error(), "; 26 known, such as service-aaaaaa, ") {
		t.Errorf("err = %v", err)
	}
	ue := err.(*UnknownError)
	ue.Hint = "shiplog query --list shows them"
	if !strings.HasSuffix(ue.Error(), "; shiplog query --list shows them") {
		t.Errorf("hint: %v", ue)
	}
}

func TestCheckAll(t *testing.T) {
	got, err := CheckAll("service", []string{"API", "web"}, []string{"api", "web"})
	if err != nil || strings.Join(got, ",") != "api,web" {
		t.Errorf("CheckAll = %v, %v", got, err)
	}
	if _, err := CheckAll("service", []string{"api", "wbe"}, []string{"api", "web"}); err == nil || !strings.Contains(err.Error(), `"wbe"`) {
		t.Errorf("CheckAll typo: %v", err)
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"kitten", "sitting", 3}, {"ab", "ba", 1}, {"", "abc", 3}, {"abc", "abc", 0}, {"ca", "abc", 3}, {"payments", "paymnts", 1},
	} {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
