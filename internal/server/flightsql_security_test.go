//go:build duckdb_arrow

package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
)

// Every statement of the security review, and every kind of statement but
// a query, is refused by the Flight SQL endpoint on each way in (Execute,
// Prepare, ExecuteUpdate, and a DoGet with a ticket the client forged
// itself): the warehouse file and its write-ahead log stay byte for byte
// the same, the server's settings are untouched, and no file of the canary
// folder is opened, listed, read or created.
func TestFlightSQLRefusesHostileStatements(t *testing.T) {
	h := startServer(t, nil)
	for _, s := range []string{
		`INSERT INTO teams (id, name, source) VALUES ('payments', 'Payments', 'file')`,
		`INSERT INTO deployments (id, service, environment, finished_at, status, source) VALUES ('d1', 'api', 'production', '2026-03-01 10:00:00+00', 'failure', 'file')`,
		`CREATE SEQUENCE s`,
		`CHECKPOINT`,
	} {
		if _, err := h.db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	canary := t.TempDir()
	os.WriteFile(filepath.Join(canary, "shadow"), []byte("root:$6$secret:19000:0:99999:7:::\n"), 0o600)
	os.WriteFile(filepath.Join(canary, "teams.csv"), []byte("id,source\nintruder,file\n"), 0o644)
	watch := fixture.WatchDir(t, canary)
	path := h.db.Path()
	before := fixture.Digest(t, path, path+".wal")
	var memBefore string
	h.db.QueryRow(`SELECT current_setting('memory_limit')`).Scan(&memBefore)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := flightsql.NewClient(h.srv.FlightAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, q := range fixture.HostileQueries(canary) {
		if _, err := cl.Execute(ctx, q.SQL); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "query: ") {
			t.Errorf("%s: Execute(%q) = %v, want refused", q.Name, q.SQL, err)
		}
		if st, err := cl.Prepare(ctx, q.SQL); err == nil {
			st.Close(ctx)
			t.Errorf("%s: Prepare(%q) succeeded", q.Name, q.SQL)
		}
		if _, err := cl.ExecuteUpdate(ctx, q.SQL); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: ExecuteUpdate(%q) = %v, want permission denied", q.Name, q.SQL, err)
		}
		// A client may skip GetFlightInfo and send a ticket of its own.
		tkt, err := flightsql.CreateStatementQueryTicket([]byte(q.SQL))
		if err != nil {
			t.Fatal(err)
		}
		if rdr, err := cl.DoGet(ctx, &flight.Ticket{Ticket: tkt}); err == nil {
			rdr.Release()
			t.Errorf("%s: DoGet of a forged ticket for %q answered", q.Name, q.SQL)
		} else if !strings.Contains(err.Error(), "query: ") {
			t.Errorf("%s: DoGet of a forged ticket: %v, want the guard's refusal", q.Name, err)
		}
		if ev := watch.Events(); len(ev) > 0 {
			t.Errorf("%s: the canary folder was touched: %v", q.Name, ev)
		}
		if after := fixture.Digest(t, path, path+".wal"); after != before {
			t.Fatalf("%s: the warehouse file changed", q.Name)
		}
	}
	var memAfter string
	h.db.QueryRow(`SELECT current_setting('memory_limit')`).Scan(&memAfter)
	if memAfter != memBefore {
		t.Errorf("memory_limit changed from %s to %s", memBefore, memAfter)
	}
	// The data is as it was, and the endpoint still answers.
	tab, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", `SELECT (SELECT count(*) FROM teams) AS teams, (SELECT status FROM deployments) AS status`)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 1 || tab.Rows[0][0] != int64(1) || tab.Rows[0][1] != "failure" {
		t.Errorf("after the refusals: %v, want 1 team and the deployment still failed", tab.Rows)
	}
}

// A served query is stopped at serve.query_timeout, and at most
// serve.max_queries run at once: the others wait for a slot within their
// own time, and a client that gives up first is told the server is busy.
func TestFlightSQLQueryLimits(t *testing.T) {
	h := startServer(t, func(o *Options) {
		o.Config.Serve.QueryTimeout = config.Duration(2 * time.Second)
		o.Config.Serve.MaxQueries = 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A query that would run for minutes is stopped after two seconds.
	start := time.Now()
	_, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", `SELECT sum(hash(i)) AS h FROM range(100000000000) t(i)`)
	took := time.Since(start)
	if status.Code(errors.Unwrap(err)) != codes.DeadlineExceeded && !strings.Contains(fmt.Sprint(err), "stopped after 2s (serve.query_timeout)") {
		t.Fatalf("long query: %v, want stopped after 2s", err)
	}
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("the long query was stopped after %s, want about 2s", took)
	}

	// One slot: a stream nobody reads holds it until its time is up.
	cl, err := flightsql.NewClient(h.srv.FlightAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tkt, _ := flightsql.CreateStatementQueryTicket([]byte(`SELECT i FROM range(5000000) t(i)`))
	held := time.Now()
	rdr, err := cl.DoGet(ctx, &flight.Ticket{Ticket: tkt})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	// A client that waits 300 ms hears the server is busy.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = RemoteQuery(short, h.srv.FlightAddr(), "", "SELECT 1")
	cancelShort()
	if err == nil {
		t.Error("a second query ran while the only slot was held")
	}
	// One that waits longer runs once the slot is free again.
	tab, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", "SELECT 42 AS answer")
	if err != nil || len(tab.Rows) != 1 || tab.Rows[0][0] != int32(42) {
		t.Fatalf("queued query: %v, %v", tab, err)
	}
	if waited := time.Since(held); waited < 1500*time.Millisecond {
		t.Errorf("the queued query ran after %s, before the held slot's 2s were up", waited)
	}
}
