package warehouse

import (
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"
)

// Int32Rows is a stream of rows of INTEGER columns made in Go, which
// DuckDB pulls chunk by chunk into a temporary table (ArrowConn.CreateTempTable),
// so that the rows never sit in Go all at once. It is read once, by one
// thread.
type Int32Rows interface {
	// Columns names the columns, in order.
	Columns() []string
	// Fill writes the next rows into cols (one slice per column, all of
	// the same length) and returns how many it wrote; 0 ends the stream.
	Fill(cols [][]int32) (int, error)
}

// rowsFunction is the table function that reads an Int32Rows: a Go
// function DuckDB calls for each chunk. It lives in the instance's
// function catalog, which is never written to the warehouse file.
//
// Why not an Arrow view: the driver's RegisterView creates a view over
// arrow_scan in the warehouse's own schema, so a transaction that
// registers one writes that view (and its drop) to the write-ahead log.
// DuckDB 1.5 logs it with the pointers of the Arrow stream in it; from
// DuckDB 2.0 on the commit fails ("Cannot serialize a table function with
// process-local bind input"). A table function keeps the rows out of
// every catalog that is logged.
const rowsFunction = "shiplog_rows"

// pendingRows holds the streams a statement is about to read, by the
// token its SQL names: shiplog_rows(token) finds nothing for a token it
// was not given, so nothing else can read a stream.
var (
	pendingRows sync.Map // int64 → Int32Rows
	rowsToken   atomic.Int64
)

// registerRows adds rowsFunction to the instance conn belongs to. DuckDB
// shares one instance per file within a process; registering the function
// again on it is harmless (it is the same function).
func registerRows(conn *sql.Conn) error {
	bigint, err := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	if err != nil {
		return err
	}
	err = duckdb.RegisterTableUDF(conn, rowsFunction, duckdb.ChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.ChunkTableSource, error) {
			tok, _ := args[0].(int64)
			v, ok := pendingRows.Load(tok)
			if !ok {
				return nil, fmt.Errorf("%s(%d): no such stream", rowsFunction, tok)
			}
			return newRowsSource(v.(Int32Rows))
		},
	})
	if err != nil {
		return fmt.Errorf("warehouse: register %s: %w", rowsFunction, err)
	}
	return nil
}

// tempTableFrom returns the statement that creates the temporary table
// name from src, and done, which must be called once the statement has
// run.
func tempTableFrom(name string, src Int32Rows) (stmt string, done func()) {
	tok := rowsToken.Add(1)
	pendingRows.Store(tok, src)
	return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s(%d)", QuoteIdent(name), rowsFunction, tok),
		func() { pendingRows.Delete(tok) }
}

// rowsSource feeds one Int32Rows to DuckDB.
type rowsSource struct {
	src   Int32Rows
	infos []duckdb.ColumnInfo
	cols  [][]int32
}

func newRowsSource(src Int32Rows) (*rowsSource, error) {
	names := src.Columns()
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: a stream with no columns", rowsFunction)
	}
	s := &rowsSource{src: src, cols: make([][]int32, len(names))}
	for i, n := range names {
		t, err := duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
		if err != nil {
			return nil, err
		}
		s.infos = append(s.infos, duckdb.ColumnInfo{Name: n, T: t})
		s.cols[i] = make([]int32, duckdb.GetDataChunkCapacity())
	}
	return s, nil
}

func (s *rowsSource) ColumnInfos() []duckdb.ColumnInfo     { return s.infos }
func (s *rowsSource) Cardinality() *duckdb.CardinalityInfo { return nil }
func (s *rowsSource) Init()                                {}

// FillChunk copies the stream's next rows into DuckDB's chunk.
func (s *rowsSource) FillChunk(chunk duckdb.DataChunk) error {
	n, err := s.src.Fill(s.cols)
	if err != nil {
		return err
	}
	if n < 0 || n > len(s.cols[0]) {
		return fmt.Errorf("%s: a stream wrote %d rows into a chunk of %d", rowsFunction, n, len(s.cols[0]))
	}
	for c, col := range s.cols {
		for r, v := range col[:n] {
			if err := duckdb.SetChunkValue(chunk, c, r, v); err != nil {
				return fmt.Errorf("%s: column %s: %w", rowsFunction, s.infos[c].Name, err)
			}
		}
	}
	return chunk.SetSize(n)
}
