package server

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/shiplog/shiplog/internal/output"
)

// RemoteQuery asks a running `shiplog serve` (its Flight SQL endpoint at
// addr) to run a read-only query and returns the whole result. token may be
// empty when the server is on loopback without one.
func RemoteQuery(ctx context.Context, addr, token, query string) (*output.Table, error) {
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer cl.Close()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	info, err := cl.Execute(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", addr, err)
	}
	t := &output.Table{}
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.GetTicket())
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", addr, err)
		}
		if err := appendRecords(t, rdr); err != nil {
			rdr.Release()
			return nil, err
		}
		rdr.Release()
	}
	return t, nil
}

func appendRecords(t *output.Table, rdr *flight.Reader) error {
	schema := rdr.Schema()
	if t.Columns == nil {
		for _, f := range schema.Fields() {
			t.Columns = append(t.Columns, f.Name)
		}
	}
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = arrowValue(rec.Column(c), i)
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return rdr.Err()
}

// arrowValue converts one cell to the Go value database/sql would have
// given, so remote and local output print the same.
func arrowValue(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit)
	case *array.Date32:
		return a.Value(i).ToTime()
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for j := start; j < end; j++ {
			out = append(out, arrowValue(vals, int(j)))
		}
		return out
	}
	return col.GetOneForMarshal(i)
}
