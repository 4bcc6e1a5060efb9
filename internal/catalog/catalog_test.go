package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/suggest"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// The names come from the marts: declared services with their teams, a
// service that only a deployment names (in dim_services, unassigned) and
// one that only a test run names (no team). Before the transform there are
// no names to check against, and Load says what to run.
func TestLoad(t *testing.T) {
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
		`insert into test_runs (id, service, version, started_at, tests, passed, failed, source) values ('t1', 'Worker ', '1.0', '2026-01-01 00:00:00+00', 1, 1, 0, 'f')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(ctx, output.DB(db)); err == nil || !strings.Contains(err.Error(), "run `shiplog transform` first") {
		t.Fatalf("Load before the transform: err = %v, want the advice to transform", err)
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	cat, err := Load(ctx, output.DB(db))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cat.ServiceNames(), ","); got != "api,batch,ledger,site,worker" {
		t.Errorf("services %s", got)
	}
	if got := strings.Join(cat.TeamNames(), ","); got != "pay,unassigned,web" { // batch is in dim_services under "unassigned"
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
		{kind: "team", value: "zzz", wantErr: `unknown team "zzz"; known: pay, unassigned, web`},
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
