package audit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/output"
)

// TestRemoteMatchesLocal runs every control with its parameters written in
// as literals (as `shiplog audit --server` sends them over Flight SQL) and
// checks the result is the one the hand-worked test above verifies for the
// bound-parameter run: same counts, findings, evidence and exemptions.
func TestRemoteMatchesLocal(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	local, err := Run(ctx, db, fixtureConfig(), march())
	if err != nil {
		t.Fatal(err)
	}
	opts := march()
	var sent []string
	opts.Remote = func(ctx context.Context, sql string) (*output.Table, error) {
		sent = append(sent, sql)
		rows, err := db.QueryContext(ctx, sql) // no arguments: nothing left to bind
		if err != nil {
			return nil, err
		}
		return output.FromRows(rows)
	}
	remote, err := Run(ctx, nil, fixtureConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2*len(local.Controls) {
		t.Errorf("%d statements sent, want 2 per control", len(sent))
	}
	for _, s := range sent {
		if strings.Contains(s, "$from") || strings.Contains(s, "$to") {
			t.Fatalf("a parameter was left in:\n%s", s)
		}
	}
	a, _ := json.Marshal(local.Document())
	b, _ := json.Marshal(remote.Document())
	if string(a) != string(b) {
		t.Errorf("remote audit differs from local:\nlocal  %s\nremote %s", a, b)
	}
	if remote.Failed() != 20 {
		t.Errorf("remote Failed() = %d, want 20", remote.Failed())
	}
}
