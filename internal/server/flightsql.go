package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// flightServer answers read-only SQL over Arrow Flight SQL, so that ADBC,
// the JDBC Flight SQL driver, DBeaver and `shiplog query --server` can read
// the live warehouse while serve holds the file. Every statement passes
// warehouse.CheckReadOnly; updates and transactions are refused.
type flightServer struct {
	flightsql.BaseServer
	db       *warehouse.DB
	srv      flight.Server
	ln       net.Listener
	prepared sync.Map // handle → query text
	onQuery  func(ok bool)
}

type tokenValidator struct{ token string }

// Validate lets a client trade a Basic handshake (any user, the token as
// password) for the bearer token, for drivers that only speak Basic auth.
func (v tokenValidator) Validate(_, password string) (string, error) {
	if subtle.ConstantTimeCompare([]byte(password), []byte(v.token)) != 1 {
		return "", status.Error(codes.Unauthenticated, "invalid token")
	}
	return v.token, nil
}

func (v tokenValidator) IsValid(bearer string) (any, error) {
	if subtle.ConstantTimeCompare([]byte(bearer), []byte(v.token)) != 1 {
		return nil, status.Error(codes.Unauthenticated, "invalid token")
	}
	return "shiplog", nil
}

func newFlightServer(db *warehouse.DB, token string, ln net.Listener) (*flightServer, error) {
	fs := &flightServer{db: db, ln: ln}
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
	if token != "" {
		mw = append(mw, flight.CreateServerBasicAuthMiddleware(tokenValidator{token: token}))
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
	conn, err := f.db.Conn(ctx)
	if err != nil {
		return status.Error(codes.Unavailable, err.Error())
	}
	defer conn.Close()
	if err := warehouse.CheckReadOnly(ctx, conn, query); err != nil {
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
// until the client has read the last batch or gone away.
func (f *flightServer) stream(ctx context.Context, query string) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	rdr, release, err := f.db.QueryArrow(ctx, query)
	if err != nil {
		return nil, nil, f.counted(status.Error(codes.InvalidArgument, err.Error()))
	}
	f.counted(nil)
	ch := make(chan flight.StreamChunk)
	go func() {
		defer close(ch)
		defer release()
		for rdr.Next() {
			rec := rdr.RecordBatch()
			rec.Retain()
			select {
			case ch <- flight.StreamChunk{Data: rec}:
			case <-ctx.Done():
				rec.Release()
				return
			}
		}
		if err := rdr.Err(); err != nil {
			select {
			case ch <- flight.StreamChunk{Err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return rdr.Schema(), ch, nil
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
