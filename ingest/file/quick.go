package file

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The quick path for JSON Lines. A survey pass reads the file as text lines
// and groups them by whether each is a JSON object, its kind and its list of
// keys (json_keys); this is cheap, and tells whether every line is a record
// of a known kind and which unknown keys each kind carries. Then, per kind,
// DuckDB's JSON reader (read_json with explicit columns, every field read as
// JSON so that the type of each value as written can still be checked) types
// the records straight into the staging table with the same checks as the
// precise path. Whatever the survey cannot vouch for (a line that is not an
// object, a kind missing or unknown, an unknown key on only some records of
// a kind, keys that differ only in case) and any bad record send the batch
// to the precise path (errSlowPath).

// surveyGroup is one group of the survey: lines with the same kind and keys.
type surveyGroup struct {
	kind string
	keys []string
	n    int64
}

// surveySQL groups the records of a JSON Lines file; obj is false for a
// group of records that are not objects.
func surveySQL(path string) string {
	// DuckDB's newline-delimited reader refuses a malformed line, and two
	// objects on one line, so every record it gives is one line.
	return fmt.Sprintf(`SELECT obj, kind, keys, count(*) FROM (
			SELECT obj, CASE WHEN obj THEN json->>'kind' END AS kind, CASE WHEN obj THEN json_keys(json) END AS keys FROM (
				-- valid JSON whose first character is { is an object
				SELECT json, starts_with(ltrim(json), '{') AS obj
				FROM read_ndjson_objects(%s, maximum_object_size = 8388608)))
		GROUP BY ALL`, warehouse.QuoteString(path))
}

// stageJSONQuick stages a JSON Lines file on the quick path. It returns
// errSlowPath when the file needs the precise one.
func stageJSONQuick(ctx context.Context, conn *sql.Conn, i int, in input, defaultKind, source string, stage func(*canonical.Kind) (bool, error)) (int64, error) {
	rows, err := conn.QueryContext(ctx, surveySQL(in.path))
	if err != nil {
		return 0, slowUnlessCancelled(ctx, err)
	}
	var groups []surveyGroup
	var total int64
	for rows.Next() {
		var (
			obj  bool
			kind sql.NullString
			keys any
			n    int64
		)
		if err := rows.Scan(&obj, &kind, &keys, &n); err != nil {
			rows.Close()
			return 0, err
		}
		total += n
		if !obj {
			rows.Close()
			return 0, errSlowPath
		}
		g := surveyGroup{kind: kind.String, n: n}
		if !kind.Valid {
			if defaultKind == "" {
				rows.Close()
				return 0, errSlowPath
			}
			g.kind = defaultKind
		}
		list, _ := keys.([]any)
		for _, k := range list {
			s, ok := k.(string)
			if !ok {
				rows.Close()
				return 0, errSlowPath
			}
			g.keys = append(g.keys, s)
		}
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, slowUnlessCancelled(ctx, err)
	}

	names := map[string]bool{}
	for _, k := range canonical.Kinds {
		names[k.Name] = true
	}
	for _, g := range groups {
		if !names[g.kind] {
			return 0, errSlowPath
		}
	}

	// Per kind, in canonical order.
	for ki := range canonical.Kinds {
		k := &canonical.Kinds[ki]
		var kg []surveyGroup
		var want int64
		for _, g := range groups {
			if g.kind == k.Name {
				kg = append(kg, g)
				want += g.n
			}
		}
		if len(kg) == 0 {
			continue
		}
		unknown, ok := unknownKeys(k, kg)
		if !ok {
			return 0, errSlowPath
		}
		direct, err := stage(k)
		if err != nil {
			return 0, err
		}
		filter := fmt.Sprintf("kind = %s", q(k.Name))
		if k.Name == defaultKind {
			filter = fmt.Sprintf("(kind = %s OR kind IS NULL)", q(k.Name))
		}
		r, err := execWrite(ctx, conn, direct, jsonQuickSQL(k, i, in.path, unknown, filter, direct, source))
		if err != nil {
			return 0, slowUnlessCancelled(ctx, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return 0, err
		}
		if n != want {
			// The JSON reader saw the records differently from the line
			// survey (say, two objects on one line).
			return 0, errSlowPath
		}
	}
	return total, nil
}

func slowUnlessCancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errSlowPath
}

// unknownKeys returns the keys of kind k's records that are not fields, in
// the order they are written. It says !ok when the quick path cannot build
// extra exactly as the precise path does: an unknown key missing from some
// records (the JSON reader gives NULL both for a missing key and for a null
// value, which extra keeps), unknown keys in different orders, a key
// repeated in a record or a key that differs from another only in case
// (the JSON reader matches names without regard to case).
func unknownKeys(k *canonical.Kind, groups []surveyGroup) ([]string, bool) {
	known := map[string]bool{"kind": true}
	folded := map[string]string{"kind": "kind", "ordinality": "ordinality"}
	for _, f := range k.Fields {
		known[f.Name] = true
		folded[strings.ToLower(f.Name)] = f.Name
	}
	var order []string
	for gi, g := range groups {
		seen := map[string]bool{}
		var unk []string
		for _, key := range g.keys {
			if key == "" || seen[key] {
				return nil, false
			}
			seen[key] = true
			if f, ok := folded[strings.ToLower(key)]; ok && f != key {
				return nil, false
			}
			if !known[key] {
				unk = append(unk, key)
				folded[strings.ToLower(key)] = key
			}
		}
		if gi == 0 {
			order = unk
		} else if !slices.Equal(order, unk) {
			return nil, false
		}
	}
	return order, true
}

// jsonQuickSQL types the records of kind k in the JSON Lines file at path
// into k's staging table: every field and unknown key is read as JSON, and
// typed and checked by the same expressions as the precise path. The line
// column holds the record's position among the file's records (order is all
// that matters on this path: a bad record sends the batch to the precise
// one).
func jsonQuickSQL(k *canonical.Kind, file int, path string, unknown []string, filter string, direct bool, source string) string {
	cols := []string{"'kind': 'VARCHAR'"}
	for _, f := range k.Fields {
		cols = append(cols, q(f.Name)+": 'JSON'")
	}
	extra := "CAST(NULL AS JSON)"
	if len(unknown) > 0 {
		var pairs []string
		for _, u := range unknown {
			cols = append(cols, q(u)+": 'JSON'")
			// Every record has the key (unknownKeys), so NULL is a null value.
			pairs = append(pairs, q(u), fmt.Sprintf("coalesce(%s, CAST('null' AS JSON))", warehouse.QuoteIdent(u)))
		}
		extra = "json_object(" + strings.Join(pairs, ", ") + ")"
	}
	var b strings.Builder
	b.WriteString(insertHead(k, fmt.Sprintf("%d, ordinality, NULL", file), direct, source))
	// Only the staging table needs the order of the records; without it
	// the reader's threads need not keep it.
	ord, withOrd := "ordinality", " WITH ORDINALITY"
	if direct {
		ord, withOrd = "NULL", ""
	}
	from := fmt.Sprintf("read_json(%s, format = 'newline_delimited', records = true, maximum_object_size = 8388608,\n  columns = {%s})%s\nWHERE %s",
		warehouse.QuoteString(path), strings.Join(cols, ", "), withOrd, filter)
	b.WriteString(" FROM (" + typedJSONSelect(k, ord+" AS ordinality", extra, from, "") + ")")
	b.WriteString(insertTail(direct))
	return b.String()
}

// typedJSONSelect is the SELECT that types and checks records of kind k
// read by from, whose columns are the fields' values as JSON (NULL when the
// key is missing), one column per field named after it: lead (the columns
// that say where a record came from), then v_<field> for each field, extra
// (the expression given) and err. The quick path reads from DuckDB's JSON
// reader; pushes (GroupCommitter) from a table their records were appended
// to. Both check with these same expressions, which are the precise path's.
// When textSuffix is set, from also has each field's value as a string
// (->>'$') in a column named after it with textSuffix appended, so that it
// is extracted once rather than in each check.
func typedJSONSelect(k *canonical.Kind, lead, extra, from, textSuffix string) string {
	fs := make([]fieldSQL, len(k.Fields))
	for i, f := range k.Fields {
		r := warehouse.QuoteIdent(f.Name)
		s := "(" + r + "->>'$')"
		if textSuffix != "" {
			s = warehouse.QuoteIdent(f.Name + textSuffix)
		}
		fs[i] = jsonField(f, r, s)
	}
	var b strings.Builder
	b.WriteString("SELECT " + lead)
	for i, x := range fs {
		fmt.Fprintf(&b, ",\n  %s AS %s", x.value, warehouse.QuoteIdent("v_"+k.Fields[i].Name))
	}
	fmt.Fprintf(&b, ",\n  %s AS extra,\n  %s AS err\nFROM %s", extra, errorExpr(k, fs), from)
	return b.String()
}

// insertHead starts the statement that writes typed records of kind k:
// into its staging table (the where columns, then the fields, extra and
// err), or, when direct, straight into its canonical table.
func insertHead(k *canonical.Kind, where string, direct bool, source string) string {
	var b strings.Builder
	if direct {
		fmt.Fprintf(&b, "INSERT INTO %s (", warehouse.QuoteIdent(k.Table))
		for _, f := range k.Fields {
			b.WriteString(warehouse.QuoteIdent(f.Name) + ", ")
		}
		b.WriteString("extra, source) SELECT ")
		for _, f := range k.Fields {
			b.WriteString(warehouse.QuoteIdent("v_"+f.Name) + ", ")
		}
		b.WriteString("extra, " + q(source))
		return b.String()
	}
	fmt.Fprintf(&b, "INSERT INTO %s SELECT %s", stageTable(k), where)
	for _, f := range k.Fields {
		b.WriteString(", " + warehouse.QuoteIdent("v_"+f.Name))
	}
	b.WriteString(", extra, err")
	return b.String()
}

// errBadRecord is the message of the error a direct write raises on the
// first bad record, which sends the batch to the precise path.
const errBadRecord = "shiplog: bad record"

// insertTail ends the statement begun by insertHead: a direct write stops
// at the first bad record.
func insertTail(direct bool) string {
	if !direct {
		return ""
	}
	return fmt.Sprintf("\nWHERE CASE WHEN err IS NULL THEN true ELSE error(%s) END", q(errBadRecord))
}

// execWrite runs a statement that stages or writes records. A direct write
// needs no order (staging keeps the records' order in its line column), so
// for it the readers' threads may hand rows on as they come.
func execWrite(ctx context.Context, conn *sql.Conn, direct bool, query string) (sql.Result, error) {
	if !direct {
		return conn.ExecContext(ctx, query)
	}
	if _, err := conn.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return nil, err
	}
	r, err := conn.ExecContext(ctx, query)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "RESET preserve_insertion_order"); rerr != nil && err == nil {
		err = rerr
	}
	return r, err
}
