package query

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// A named query's team or service parameter must name one the warehouse
// knows: a typo is an error with the closest names and exit 2, not an empty
// table; a known name in another case is answered in the warehouse's
// spelling.
func TestParamNames(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO teams (id, name, source) VALUES ('payments', 'Payments', 'f'), ('web', 'Web', 'f')`,
		`INSERT INTO services (id, team, source) VALUES ('checkout-api', 'payments', 'f'), ('site', 'web', 'f')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	open := func(ctx context.Context) (*warehouse.DB, error) {
		return warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
	}
	for _, tt := range []struct {
		params  map[string]string
		wantErr string
	}{
		{map[string]string{"team": "payment"}, `--param team: unknown team "payment"; did you mean "payments"?`},
		{map[string]string{"service": "checkout"}, `--param service: unknown service "checkout"; did you mean "checkout-api"?`},
		{map[string]string{"team": "zzz"}, `--param team: unknown team "zzz"; known: payments, web`},
	} {
		ios, _, out, _ := iostreams.Test()
		err := Run(ctx, &Options{IO: ios, Name: "slowest-changes", Params: tt.params, Format: "csv", Warehouse: open})
		if err == nil || err.Error() != tt.wantErr || cmdutil.ExitCode(err) != cmdutil.ExitUsage || out.Len() != 0 {
			t.Errorf("%v: err = %v, output %q; want %q, exit 2", tt.params, err, out, tt.wantErr)
		}
	}
	// empty means all; "Payments" is the team's display name
	for _, params := range []map[string]string{{"team": ""}, {"team": "Payments"}, {"team": "WEB", "service": "Site"}} {
		ios, _, out, _ := iostreams.Test()
		opts := &Options{IO: ios, Name: "slowest-changes", Params: params, Format: "csv", Warehouse: open}
		if err := Run(ctx, opts); err != nil || !strings.HasPrefix(out.String(), "change_id,") {
			t.Errorf("%v: %v %q", params, err, out)
		}
	}
}
