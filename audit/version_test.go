package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"
	"time"

	"github.com/shiplog/shiplog/queries"
)

func TestControlVersion(t *testing.T) {
	q := queries.Query{SQL: "select 1", Params: []queries.Param{
		{Name: "from", Type: "timestamp", Default: "1970-01-01"},
		{Name: "required_approvals", Type: "int", Default: "1"},
		{Name: "as_of", Type: "timestamp", Null: true},
		{Name: "note", Type: "text", Null: true},
	}}
	// Worked out from the definition: length-prefixed SQL, then name,
	// type and value of each parameter but the period and the clock.
	sum := sha256.Sum256([]byte("8:select 118:required_approvals3:int2:=24:note4:text4:null"))
	want := hex.EncodeToString(sum[:])[:12]
	p := map[string]string{"from": "2026-03-01T00:00:00Z", "required_approvals": "2", "as_of": "2026-04-01T00:00:00Z"}
	if got := ControlVersion(q, p); got != want {
		t.Fatalf("version %s, want %s", got, want)
	}
	// Another period and clock: the same rule.
	if got := ControlVersion(q, map[string]string{"from": "2025-01-01T00:00:00Z", "required_approvals": "2"}); got != want {
		t.Errorf("period changed the version: %s", got)
	}
	// A value equal to the default is the default.
	if ControlVersion(q, map[string]string{"required_approvals": "1"}) != ControlVersion(q, nil) {
		t.Errorf("a given default differs from the default")
	}
	for name, other := range map[string]map[string]string{
		"parameter": {"required_approvals": "3"},
		"null":      {"required_approvals": "2", "note": "null"},
	} {
		if ControlVersion(q, other) == want {
			t.Errorf("%s: a different rule has the same version", name)
		}
	}
	q2 := q
	q2.SQL = "select 2"
	if ControlVersion(q2, p) == want {
		t.Errorf("changed SQL, same version")
	}
}

// Every control gets a version; the configuration changes only the
// versions of the controls that read the changed parameter.
func TestRunControlVersions(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	cfg := fixtureConfig()
	run := func(from time.Time) map[string]string {
		res, err := Run(ctx, db, cfg, Options{From: from, To: from.AddDate(0, 1, 0), Now: fixtureNow})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range res.Controls {
			out[c.Name] = c.Version
		}
		doc := res.Document()["controls"].([]any)
		if v := doc[0].(map[string]any)["version"]; v != res.Controls[0].Version {
			t.Errorf("JSON version %v, want %s", v, res.Controls[0].Version)
		}
		return out
	}
	march := run(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	hex12 := regexp.MustCompile(`^[0-9a-f]{12}$`)
	seen := map[string]string{}
	for name, v := range march {
		if !hex12.MatchString(v) {
			t.Errorf("%s: version %q", name, v)
		}
		if o, dup := seen[v]; dup {
			t.Errorf("%s and %s share version %s", name, o, v)
		}
		seen[v] = name
	}
	if len(march) != 9 {
		t.Errorf("%d controls", len(march))
	}
	feb := run(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	cfg.Controls.RequiredApprovals = 1
	changed := run(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for name, v := range march {
		if feb[name] != v {
			t.Errorf("%s: the period changed the version", name)
		}
		if (changed[name] != v) != (name == "unreviewed-change") {
			t.Errorf("%s: version %s → %s after required_approvals 2 → 1", name, v, changed[name])
		}
	}
}
