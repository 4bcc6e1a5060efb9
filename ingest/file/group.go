package file

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Stream is one named JSON Lines stream of a group (one push delivery).
type Stream struct {
	// Name stands for the stream in messages ("push:<delivery id>").
	Name string
	// Data is the JSON Lines.
	Data []byte
}

// GroupError says which stream of a group holds a bad record. Err is the
// error that stream gives loaded alone (its own name, line and field), so
// that a sender learns exactly what it would have learnt had its delivery
// been loaded on its own.
type GroupError struct {
	Index int
	Err   error
}

func (e *GroupError) Error() string { return e.Err.Error() }
func (e *GroupError) Unwrap() error { return e.Err }

// errDryRun rolls back a load that only checks a stream.
var errDryRun = errors.New("file: checked only")

// LoadGroup loads several JSON Lines streams as one batch: one read of
// their concatenation, in stream order (so a later stream's record of a key
// replaces an earlier one's, as loading them one after another would), one
// transaction, one ingest_runs row whose target names every stream. It is
// what lets `serve` commit queued push deliveries together: the fixed cost
// of a batch (a dozen statements and a commit) is paid once per group.
//
// When the group has a bad record nothing is loaded, and the error is a
// *GroupError naming the first stream with one and carrying that stream's
// own error: the stream is checked alone, in a transaction that is rolled
// back whatever happens. Any other error (the warehouse failed, or a bad
// record that could not be pinned to one stream) is returned as it is; the
// caller may then load the streams one at a time.
func LoadGroup(ctx context.Context, db *warehouse.DB, streams []Stream, opts Options) (*Result, error) {
	if len(streams) == 0 {
		return &Result{Rows: map[string]int64{}}, nil
	}
	var buf bytes.Buffer
	// first[i] is the line of the concatenation where stream i starts.
	first := make([]int64, len(streams))
	names := make([]string, len(streams))
	line := int64(1)
	for i, s := range streams {
		first[i] = line
		names[i] = s.Name
		buf.Write(s.Data)
		line += int64(bytes.Count(s.Data, []byte{'\n'}))
		if len(s.Data) > 0 && s.Data[len(s.Data)-1] != '\n' {
			buf.WriteByte('\n')
			line++
		}
	}
	res, err := LoadReader(ctx, db, strings.Join(names, " "), &buf, opts)
	if err == nil {
		return res, nil
	}
	if len(streams) == 1 && IsDataError(err) {
		return res, &GroupError{Index: 0, Err: err}
	}
	var de *DataError
	if !errors.As(err, &de) || de.CSV {
		return res, err
	}
	i := sort.Search(len(first), func(j int) bool { return first[j] > de.Line }) - 1
	if i < 0 {
		return res, err
	}
	alone := opts
	alone.InTx = func(context.Context, *sql.Conn) error { return errDryRun }
	_, aerr := LoadReader(ctx, db, streams[i].Name, bytes.NewReader(streams[i].Data), alone)
	if aerr != nil && IsDataError(aerr) {
		return res, &GroupError{Index: i, Err: aerr}
	}
	if aerr != nil && !errors.Is(aerr, errDryRun) {
		return res, aerr
	}
	return res, fmt.Errorf("%w (%s, line %d of the group, loads alone without fault)", err, streams[i].Name, de.Line-first[i]+1)
}
