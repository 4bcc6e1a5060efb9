package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/suggest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// A warehouse never transformed: the names come from the canonical tables,
// with a service that only a deployment names.
func TestLoadCanonical(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`insert into teams (id, name, department, source) values ('pay', 'Payments', 'finance', 'f'), ('web', 'Web Shop', 'product', 'f')`,
		`insert into services (id, team, source) values ('api', 'pay', 'f'), ('ledger', 'pay', 'f'), ('site', 'web', 'f')`,
		`insert into deployments (id, service, environment, status, finished_at, source) values ('d1', 'batch', 'production', 'success', '2026-01-01 00:00:00+00', 'f')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := Load(ctx, output.DB(db))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cat.ServiceNames(), ","); got != "api,batch,ledger,site" {
		t.Errorf("services %s", got)
	}
	if got := strings.Join(cat.TeamNames(), ","); got != "pay,web" {
		t.Errorf("teams %s", got)
	}
	tests := []struct {
		kind, value, want, wantErr string
	}{
		{kind: "service", value: "API", want: "api"},
		{kind: "service", value: "ledgr", wantErr: `unknown service "ledgr"; did you mean "ledger"?`},
		{kind: "team", value: "pay", want: "pay"},
		{kind: "team", value: "web shop", want: "web"}, // a team's display name
		{kind: "team", value: "Payments", want: "pay"},
		{kind: "team", value: "paymnt", wantErr: `unknown team "paymnt"; did you mean "pay"?`},
		{kind: "team", value: "zzz", wantErr: `unknown team "zzz"; known: pay, web`},
		{kind: "department", value: "Finance", want: "finance"},
		{kind: "department", value: "prodct", wantErr: `unknown department "prodct"; did you mean "product"?`},
		{kind: "version", value: "anything", want: "anything"},
	}
	for _, tt := range tests {
		got, err := cat.Check(tt.kind, tt.value)
		if tt.wantErr != "" {
			var ue *suggest.UnknownError
			if !errors.As(err, &ue) || err.Error() != tt.wantErr {
				t.Errorf("Check(%s, %s) err = %v, want %q", tt.kind, tt.value, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Check(%s, %s) = %q, %v; want %q", tt.kind, tt.value, got, err, tt.want)
		}
	}
	if got := strings.Join(cat.TeamsOf([]string{"finance"}), ","); got != "pay" {
		t.Errorf("teams of finance: %s", got)
	}
}
