//go:build duckdb_arrow

package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

func TestFlightSQLReadsWhatTheWebhookWrote(t *testing.T) {
	h := startServer(t, nil)
	if code, body := h.push(twoDeployments, "f-1"); code != 202 {
		t.Fatalf("push: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tab, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", `SELECT id, status, finished_at, [service, environment] AS tags
		FROM deployments ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tab.Columns, ","); got != "id,status,finished_at,tags" {
		t.Fatalf("columns %s", got)
	}
	if len(tab.Rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(tab.Rows))
	}
	if tab.Rows[0][0] != "d1" || tab.Rows[1][1] != "failure" {
		t.Errorf("rows %v", tab.Rows)
	}
	ts, ok := tab.Rows[0][2].(time.Time)
	if !ok || !ts.Equal(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("finished_at %v (%T), want 2026-03-01T08:00:00Z", tab.Rows[0][2], tab.Rows[0][2])
	}
	if tags, ok := tab.Rows[0][3].([]any); !ok || len(tags) != 2 || tags[0] != "api" {
		t.Errorf("list column %v", tab.Rows[0][3])
	}
}

func TestFlightSQLRefusesWrites(t *testing.T) {
	h := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := flightsql.NewClient(h.srv.FlightAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, q := range []string{
		"INSERT INTO teams (id, source) VALUES ('x', 'y')",
		"DELETE FROM deployments",
		"COPY deployments TO 'out.csv'",
		"ATTACH 'other.duckdb' AS o",
	} {
		if _, err := cl.ExecuteUpdate(ctx, q); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("ExecuteUpdate(%q) = %v, want refused as read-only", q, err)
		}
		if _, err := cl.Execute(ctx, q); err == nil || !strings.Contains(err.Error(), "statements are refused") {
			t.Errorf("Execute(%q) = %v, want refused", q, err)
		}
		if _, err := cl.Prepare(ctx, q); err == nil {
			t.Errorf("Prepare(%q) succeeded", q)
		}
	}
	if n := h.count(`SELECT count(*) FROM teams`); n != 0 {
		t.Errorf("teams has %d rows after refused writes", n)
	}
	// 4 statements refused on Execute and 4 on Prepare; ExecuteUpdate is
	// refused too: 12 refusals in all, no query answered yet.
	if m := h.get("/metrics"); !strings.Contains(m, `shiplog_flightsql_queries_total{status="refused"} 12`) {
		t.Errorf("/metrics does not count the refused statements:\n%s", grepLines(m, "flightsql"))
	}
	// Prepared read-only statements work (JDBC and ADBC drivers use them).
	st, err := cl.Prepare(ctx, "SELECT 40 + 2 AS answer")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() || rdr.RecordBatch().Column(0).ValueStr(0) != "42" {
		t.Errorf("prepared statement did not answer 42")
	}
	st.Close(ctx)
}

func TestFlightSQLToken(t *testing.T) {
	h := startServer(t, func(o *Options) {
		env := map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret, "SHIPLOG_TOKEN": "flight-token"}
		o.Getenv = func(k string) string { return env[k] }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", "SELECT 1"); err == nil {
		t.Error("query without a token succeeded")
	}
	if _, err := RemoteQuery(ctx, h.srv.FlightAddr(), "wrong", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "invalid token") {
		t.Errorf("wrong token: %v", err)
	}
	tab, err := RemoteQuery(ctx, h.srv.FlightAddr(), "flight-token", "SELECT 1 AS one")
	if err != nil || len(tab.Rows) != 1 {
		t.Fatalf("with token: %v %v", tab, err)
	}
	// Basic handshake with the token as password also works (for drivers
	// that only speak Basic auth).
	cl, err := flightsql.NewClient(h.srv.FlightAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	authed, err := cl.Client.AuthenticateBasicToken(ctx, "anyone", "flight-token")
	if err != nil {
		t.Fatal(err)
	}
	if md, _ := metadata.FromOutgoingContext(authed); len(md.Get("authorization")) == 0 {
		t.Error("handshake returned no bearer token")
	}
	if _, err := cl.Execute(authed, "SELECT 1"); err != nil {
		t.Errorf("query after basic handshake: %v", err)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
