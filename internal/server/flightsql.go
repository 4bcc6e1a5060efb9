package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shiplog/shiplog/internal/access"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// flightServer answers read-only SQL over Arrow Flight SQL, so that ADBC,
// the JDBC Flight SQL driver, DBeaver and `shiplog query --server` can read
// the live warehouse while serve holds the file and keeps writing it.
//
// A query runs in the server's own DuckDB instance (the only one that may
// hold the file), on a connection of its own inside a READ ONLY
// transaction, after warehouse.Guard has accepted its text; the instance is
// sealed (no external access, configuration locked). Updates and
// transactions are refused. DuckDB's memory_limit and threads are
// instance-wide, so one query is bounded by time (limits.timeout) and by
// the number that may run at once (limits.slots).
type flightServer struct {
	flightsql.BaseServer
	db       *warehouse.DB
	srv      flight.Server
	ln       net.Listener
	prepared sync.Map // handle → query text
	onQuery  func(ok bool)
	limits   queryLimits
}

// queryLimits bound the served queries.
type queryLimits struct {
	timeout time.Duration
	slots   chan struct{} // one token per query that may run
}

func newQueryLimits(timeout time.Duration, max int) queryLimits {
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	if max < 1 {
		max = 1
	}
	return queryLimits{timeout: timeout, slots: make(chan struct{}, max)}
}

// tokenValidator checks a Flight SQL caller's token with check (the
// server's flightCheck: a known token with the read scope over every
// team).
type tokenValidator struct{ check func(token string) error }

// Validate lets a client trade a Basic handshake (any user, the token as
// password) for the bearer token, for drivers that only speak Basic auth.
func (v tokenValidator) Validate(_, password string) (string, error) {
	if err := v.check(password); err != nil {
		return "", flightAuthError(err)
	}
	return password, nil
}

func (v tokenValidator) IsValid(bearer string) (any, error) {
	if err := v.check(bearer); err != nil {
		return nil, flightAuthError(err)
	}
	return "shiplog", nil
}

// flightAuthError is PermissionDenied with the missing scope for a known
// token without it, Unauthenticated otherwise.
func flightAuthError(err error) error {
	var d *access.Denied
	if errors.As(err, &d) {
		return status.Error(codes.PermissionDenied, d.Error())
	}
	return status.Error(codes.Unauthenticated, "invalid token")
}

func newFlightServer(db *warehouse.DB, check func(token string) error, ln net.Listener, limits queryLimits) (*flightServer, error) {
	fs := &flightServer{db: db, ln: ln, limits: limits}
	fs.Alloc = memory.DefaultAllocator
	for id, v := range map[flightsql.SqlInfo]any{
		flightsql.SqlInfoFlightSqlServerName:         "shiplog",
		flightsql.SqlInfoFlightSqlServerVersion:      "1",
		flightsql.SqlInfoFlightSqlServerArrowVersion: "18",
		flightsql.SqlInfoFlightSqlServerReadOnly:     true,
		flightsql.SqlInfoFlightSqlServerTransaction:  int32(0), // SqlSupportedTransaction_NONE
	} {
		if err := fs.RegisterSqlInfo(id, v); err != nil {
			return nil, err
		}
	}
	var mw []flight.ServerMiddleware
	if check != nil {
		mw = append(mw, flight.CreateServerBasicAuthMiddleware(tokenValidator{check: check}))
	}
	fs.srv = flight.NewServerWithMiddleware(mw)
	fs.srv.RegisterFlightService(flightsql.NewFlightServer(fs))
	fs.srv.InitListener(ln)
	return fs, nil
}

func (f *flightServer) serve() error { return f.srv.Serve() }
func (f *flightServer) stop()        { f.srv.Shutdown() }
func (f *flightServer) addr() string { return f.ln.Addr().String() }

func (f *flightServer) counted(err error) error {
	if f.onQuery != nil {
		f.onQuery(err == nil)
	}
	return err
}

// checkQuery refuses anything but a read-only statement before a ticket is
// handed out, so a client learns at once.
func (f *flightServer) checkQuery(ctx context.Context, query string) error {
	conn, err := f.db.ReadOnlyConn(ctx)
	if err != nil {
		return status.Error(codes.Unavailable, err.Error())
	}
	defer conn.Close()
	if _, err := warehouse.Guard(ctx, conn.Conn, query, warehouse.Policy{}); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}

func (f *flightServer) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if len(cmd.GetTransactionId()) > 0 {
		return nil, f.counted(status.Error(codes.InvalidArgument, "transactions are not supported: the endpoint is read-only"))
	}
	if err := f.checkQuery(ctx, cmd.GetQuery()); err != nil {
		return nil, f.counted(err)
	}
	tkt, err := flightsql.CreateStatementQueryTicket([]byte(cmd.GetQuery()))
	if err != nil {
		return nil, err
	}
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: tkt}}},
		FlightDescriptor: desc,
		TotalRecords:     -1,
		TotalBytes:       -1,
	}, nil
}

func (f *flightServer) DoGetStatement(ctx context.Context, cmd flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return f.stream(ctx, string(cmd.GetStatementHandle()))
}

// stream runs query and sends its record batches. The connection is held
// until the client has read the last batch or gone away, or the query's
// time is up; it takes one of the limited query slots meanwhile.
func (f *flightServer) stream(ctx context.Context, query string) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	qctx, cancel := context.WithTimeout(ctx, f.limits.timeout)
	select {
	case f.limits.slots <- struct{}{}:
	case <-qctx.Done():
		cancel()
		return nil, nil, f.counted(status.Errorf(codes.ResourceExhausted,
			"query: %d queries were already running for the whole query time (%s); try again later (serve.max_queries, serve.query_timeout)", cap(f.limits.slots), f.limits.timeout))
	}
	done := func() { <-f.limits.slots; cancel() }
	rdr, release, err := f.db.QueryArrow(qctx, query)
	if err != nil {
		code := codes.InvalidArgument
		if errors.Is(qctx.Err(), context.DeadlineExceeded) {
			code, err = codes.DeadlineExceeded, f.timeoutError(qctx, err)
		}
		done()
		return nil, nil, f.counted(status.Error(code, err.Error()))
	}
	f.counted(nil)
	ch := make(chan flight.StreamChunk)
	go func() {
		defer close(ch)
		defer done()
		defer release()
		for rdr.Next() {
			rec := rdr.RecordBatch()
			rec.Retain()
			select {
			case ch <- flight.StreamChunk{Data: rec}:
			case <-qctx.Done():
				rec.Release()
				return
			}
		}
		if err := rdr.Err(); err != nil {
			if errors.Is(qctx.Err(), context.DeadlineExceeded) {
				err = status.Error(codes.DeadlineExceeded, f.timeoutError(qctx, err).Error())
			}
			select {
			case ch <- flight.StreamChunk{Err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return rdr.Schema(), ch, nil
}

// timeoutError says a query was stopped at its time limit (or why else its
// context ended).
func (f *flightServer) timeoutError(qctx context.Context, err error) error {
	if errors.Is(qctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("query: stopped after %s (serve.query_timeout)", f.limits.timeout)
	}
	return err
}

func (f *flightServer) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	if len(req.GetTransactionId()) > 0 {
		return res, status.Error(codes.InvalidArgument, "transactions are not supported: the endpoint is read-only")
	}
	if err := f.checkQuery(ctx, req.GetQuery()); err != nil {
		return res, f.counted(err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	handle := hex.EncodeToString(b)
	f.prepared.Store(handle, req.GetQuery())
	res.Handle = []byte(handle)
	return res, nil
}

func (f *flightServer) ClosePreparedStatement(_ context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	f.prepared.Delete(string(req.GetPreparedStatementHandle()))
	return nil
}

func (f *flightServer) GetFlightInfoPreparedStatement(_ context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if _, ok := f.prepared.Load(string(cmd.GetPreparedStatementHandle())); !ok {
		return nil, status.Error(codes.InvalidArgument, "prepared statement not found")
	}
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		FlightDescriptor: desc,
		TotalRecords:     -1,
		TotalBytes:       -1,
	}, nil
}

func (f *flightServer) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	q, ok := f.prepared.Load(string(cmd.GetPreparedStatementHandle()))
	if !ok {
		return nil, nil, status.Error(codes.InvalidArgument, "prepared statement not found")
	}
	return f.stream(ctx, q.(string))
}

func (f *flightServer) DoPutCommandStatementUpdate(context.Context, flightsql.StatementUpdate) (int64, error) {
	return 0, f.counted(status.Error(codes.PermissionDenied, "the shiplog query endpoint is read-only: updates are refused"))
}

func (f *flightServer) DoPutPreparedStatementUpdate(context.Context, flightsql.PreparedStatementUpdate, flight.MessageReader) (int64, error) {
	return 0, f.counted(status.Error(codes.PermissionDenied, "the shiplog query endpoint is read-only: updates are refused"))
}

func (f *flightServer) BeginTransaction(context.Context, flightsql.ActionBeginTransactionRequest) ([]byte, error) {
	return nil, status.Error(codes.Unimplemented, "transactions are not supported: the endpoint is read-only")
}
