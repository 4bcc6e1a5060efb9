// Package output prints result sets for people and for machines. Every
// command that prints rows (metrics, explain, query, audit, calendar, drift
// …) goes through Print, so the formats are the same everywhere:
//
//   - on a terminal ("table"): the columns that matter first (Table.Primary),
//     fitted to the terminal's width, values in human units (format.Human:
//     "1.2 %", "2.2 d", "1,234", "–" for unknown); --wide shows every
//     column, --columns picks them;
//   - piped "table", or "tsv": tab-separated raw values with a header of
//     the stable column names, every column, nothing truncated;
//   - "csv": the same with CSV quoting;
//   - "json": one document {"columns": [...], "rows": [{...}, ...]} plus
//     the caller's extra members, numbers rounded (format.Raw), unknown as
//     null.
//
// A table carries what its columns mean (Kinds), so each format renders a
// rate as a rate without knowing which command built it.
package output

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/suggest"
)

// Formats lists the accepted --format values for row output.
var Formats = []string{"table", "json", "csv", "tsv"}

// Table is a result set and what people need to read it.
type Table struct {
	Columns []string
	Rows    [][]any

	// Kinds says what each column's values mean, by column name; a column
	// without one is rendered by the Go type of its values.
	Kinds map[string]format.Kind
	// Labels are terminal headings by column name; the default is the name
	// in capitals with spaces for underscores.
	Labels map[string]string
	// Primary lists, most important first, the columns a terminal shows
	// when neither --wide nor --columns is given; empty means all. When the
	// terminal is too narrow, columns are dropped from the end of this list.
	Primary []string
	// Beside maps a column to another whose value a terminal prints in the
	// same cell when that other column is not shown itself: a tier beside
	// its value ("1.1 d high").
	Beside map[string]string
	// BesideText, when set for a column, renders its values where they are
	// shown beside another column; an empty result adds nothing to that
	// cell (a period's coverage only when it is not complete).
	BesideText map[string]func(any) string
	// Unknown maps a column to another that says why its value is unknown:
	// a terminal shows a null value whose reason is set as "unknown
	// (reason)" rather than a bare dash, so that a metric with no source is
	// never read as a missing zero. Machine formats carry both columns.
	Unknown map[string]string
}

// Index returns the position of column col, or -1.
func (t *Table) Index(col string) int {
	for i, c := range t.Columns {
		if c == col {
			return i
		}
	}
	return -1
}

// Kind returns what column col means (format.Auto when undeclared).
func (t *Table) Kind(col string) format.Kind {
	return t.Kinds[col]
}

// Label returns the terminal heading of column col.
func (t *Table) Label(col string) string {
	if l, ok := t.Labels[col]; ok {
		return l
	}
	return strings.ToUpper(strings.ReplaceAll(col, "_", " "))
}

// Describe sets the kind and label of the named columns that t has, so a
// package can describe every column it ever produces in one dictionary.
func (t *Table) Describe(kinds map[string]format.Kind, labels map[string]string) {
	for _, c := range t.Columns {
		if k, ok := kinds[c]; ok {
			if t.Kinds == nil {
				t.Kinds = map[string]format.Kind{}
			}
			t.Kinds[c] = k
		}
		if l, ok := labels[c]; ok {
			if t.Labels == nil {
				t.Labels = map[string]string{}
			}
			t.Labels[c] = l
		}
	}
}

// Select returns a table of the named columns, in that order, with their
// metadata. A name may also be a column's terminal heading written in any
// case with underscores or spaces ("lead time"). An unknown name is a
// *suggest.UnknownError listing the closest column names.
func (t *Table) Select(cols []string) (*Table, error) {
	idx := make([]int, 0, len(cols))
	names := make([]string, 0, len(cols))
	for _, c := range cols {
		i := t.find(c)
		if i < 0 {
			_, err := suggest.Check("column", c, t.Columns)
			return nil, err
		}
		idx = append(idx, i)
		names = append(names, t.Columns[i])
	}
	out := &Table{Columns: names, Kinds: t.Kinds, Labels: t.Labels, Beside: t.Beside, BesideText: t.BesideText, Unknown: t.Unknown}
	for _, r := range t.Rows {
		row := make([]any, len(idx))
		for j, i := range idx {
			row[j] = r[i]
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// find matches a column by name, then by heading, trimmed and
// case-insensitively.
func (t *Table) find(name string) int {
	key := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "_"), "-", "_")
	}
	k := key(name)
	for i, c := range t.Columns {
		if key(c) == k {
			return i
		}
	}
	found := -1
	for i, c := range t.Columns {
		if key(t.Label(c)) == k {
			if found >= 0 {
				return -1 // two columns share the heading: ask for the name
			}
			found = i
		}
	}
	return found
}

// CheckFormat returns an error unless format is one of allowed (Formats when
// allowed is empty).
func CheckFormat(format string, allowed ...string) error {
	if len(allowed) == 0 {
		allowed = Formats
	}
	for _, f := range allowed {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("--format must be one of %s, not %q", strings.Join(allowed, ", "), format)
}

// Options say how Print renders a table.
type Options struct {
	// Format is table (the default), tsv, csv or json.
	Format string
	// TTY says the output is a terminal: "table" is then aligned for
	// people; otherwise it is tab-separated raw values.
	TTY bool
	// Width is the terminal's width in columns; 0 does not fit.
	Width int
	// Wide shows every column on a terminal, unfitted.
	Wide bool
	// Columns, when set, are the only columns printed, in this order, in
	// every format.
	Columns []string
	// Extra are top-level members of the JSON document beside columns and
	// rows (the period, the coverage …).
	Extra map[string]any
	// Footer is printed under an aligned table (only there): totals, notes
	// for people.
	Footer string
	// Hints, when set, receives a line saying which columns the terminal's
	// width left out (the caller passes stderr when it is a terminal).
	Hints io.Writer
}

// Print writes t as o says.
func Print(w io.Writer, t *Table, o Options) error {
	if len(o.Columns) > 0 {
		var err error
		if t, err = t.Select(o.Columns); err != nil {
			return err
		}
	}
	switch o.Format {
	case "json":
		return WriteJSON(w, t, o.Extra)
	case "csv":
		return WriteCSV(w, t)
	case "tsv":
		return writeTSV(w, t)
	case "table", "":
		if !o.TTY {
			return writeTSV(w, t)
		}
		return writeAligned(w, t, o)
	}
	return CheckFormat(o.Format)
}

// Write prints t in format, unfitted. tty selects aligned columns for
// "table"; when not a terminal, "table" is tab-separated so that it pipes
// into cut and awk.
func Write(w io.Writer, fmtName string, t *Table, tty bool) error {
	return Print(w, t, Options{Format: fmtName, TTY: tty})
}

// WriteJSON prints {"columns": [...], "rows": [...]} with extra top-level
// members merged in (for example the period a metrics call covered). When
// the table declares kinds, a "kinds" member names each declared column's
// kind (rate, hours, count …) so a consumer knows the unit.
func WriteJSON(w io.Writer, t *Table, extra map[string]any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONDocument(t, extra))
}

// JSONDocument is the document WriteJSON prints, for callers that answer
// it another way (the HTTP read API pages its rows): "rows" is a
// []map[string]any.
func JSONDocument(t *Table, extra map[string]any) map[string]any {
	rows := make([]map[string]any, 0, len(t.Rows))
	for _, r := range t.Rows {
		m := make(map[string]any, len(t.Columns))
		for i, c := range t.Columns {
			m[c] = format.JSON(t.Kind(c), r[i])
		}
		rows = append(rows, m)
	}
	doc := map[string]any{"columns": t.Columns, "rows": rows}
	if kinds := t.declaredKinds(); len(kinds) > 0 {
		doc["kinds"] = kinds
	}
	for k, v := range extra {
		doc[k] = v
	}
	return doc
}

func (t *Table) declaredKinds() map[string]string {
	out := map[string]string{}
	for _, c := range t.Columns {
		if k, ok := t.Kinds[c]; ok && k != format.Auto {
			out[c] = k.String()
		}
	}
	return out
}

// WriteCSV prints a header row of the column names and one row per record
// of raw values (format.Raw).
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i, c := range t.Columns {
			rec[i] = format.Raw(t.Kind(c), r[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var tsvEscaper = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")

func writeTSV(w io.Writer, t *Table) error {
	if _, err := fmt.Fprintln(w, strings.Join(t.Columns, "\t")); err != nil {
		return err
	}
	cells := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i, c := range t.Columns {
			cells[i] = tsvEscaper.Replace(format.Raw(t.Kind(c), r[i]))
		}
		if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return nil
}

// Text renders one value as plain text: times in RFC 3339 UTC, lists as
// JSON arrays, NULL as the empty string, numbers in full.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case bool:
		return strconv.FormatBool(x)
	case *big.Int:
		return x.String()
	case []any, map[string]any:
		b, _ := json.Marshal(format.JSON(format.Auto, x))
		return string(b)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// FromRows reads every row of rs into a Table.
func FromRows(rs *sql.Rows) (*Table, error) {
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	t := &Table{Columns: cols}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, vals)
	}
	return t, rs.Err()
}

// QueryFunc runs one read-only statement and returns its rows: from an
// open warehouse (DB) or from a running `shiplog serve`'s query endpoint, so
// that what is read for people's notes (known names, coverage) works the
// same against both.
type QueryFunc func(ctx context.Context, query string) (*Table, error)

// Querier is what DB needs of a warehouse (a *warehouse.DB).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// DB returns a QueryFunc over an open database.
func DB(db Querier) QueryFunc {
	return func(ctx context.Context, query string) (*Table, error) {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		return FromRows(rows)
	}
}
