// Package output prints result sets as an aligned table, JSON or CSV. Every
// command that prints rows (query, metrics, audit, calendar, drift …) goes
// through it, so machine formats are the same everywhere: JSON is one
// document {"columns": [...], "rows": [{...}, ...]}, CSV has one header row.
package output

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats lists the accepted --format values for row output.
var Formats = []string{"table", "json", "csv"}

// Table is a result set.
type Table struct {
	Columns []string
	Rows    [][]any
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

// Write prints t in format. tty selects aligned columns for "table"; when
// not a terminal, "table" is tab-separated so that it pipes into cut and awk.
func Write(w io.Writer, format string, t *Table, tty bool) error {
	switch format {
	case "json":
		return WriteJSON(w, t, nil)
	case "csv":
		return WriteCSV(w, t)
	case "table", "":
		return writeTable(w, t, tty)
	}
	return CheckFormat(format)
}

// WriteJSON prints {"columns": [...], "rows": [...]} with extra top-level
// members merged in (for example the window a metrics call covered).
func WriteJSON(w io.Writer, t *Table, extra map[string]any) error {
	rows := make([]map[string]any, 0, len(t.Rows))
	for _, r := range t.Rows {
		m := make(map[string]any, len(t.Columns))
		for i, c := range t.Columns {
			m[c] = jsonValue(r[i])
		}
		rows = append(rows, m)
	}
	doc := map[string]any{"columns": t.Columns, "rows": rows}
	for k, v := range extra {
		doc[k] = v
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteCSV prints a header row and one row per record.
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i := range rec {
			rec[i] = Text(r[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeTable(w io.Writer, t *Table, tty bool) error {
	if !tty {
		fmt.Fprintln(w, strings.Join(t.Columns, "\t"))
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(Text(v))
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Columns, "\t")))
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			s := Text(v)
			if f, ok := v.(float64); ok {
				s = shortFloat(f)
			}
			cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func shortFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// Text renders one value for CSV and tables: times in RFC 3339 UTC, lists as
// JSON arrays, NULL as the empty string.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return formatTime(x)
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
		b, _ := json.Marshal(jsonValue(x))
		return string(b)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// jsonValue makes a scanned value JSON-friendly: times as RFC 3339 strings,
// NaN and ±Inf as null, big integers as numbers.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return formatTime(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case []byte:
		return string(x)
	case *big.Int:
		return json.Number(x.String())
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = jsonValue(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return v
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
