package file

import (
	"fmt"
	"strings"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The SQL in this file validates and types a whole kind in one statement.
// Each field gets four expressions over its raw value r: whether it is
// absent, whether its type is right, its typed value, and the reason text
// when it is wrong. The per-row error is the first failing check in field
// order, as "field<TAB>reason", so that a bad record's first problem is the
// one reported, whatever the size of the batch.

// timeRE is RFC 3339 with a mandatory offset (a space is accepted for the
// "T", as RFC 3339 section 5.6 allows).
const timeRE = `\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})`

// timeNoOffsetRE matches a timestamp that lacks only its offset, to say so.
const timeNoOffsetRE = `\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?`

const dateRE = `\d{4}-\d{2}-\d{2}`

const intRE = `[+-]?\d+`

// fieldSQL holds the expressions for one field.
type fieldSQL struct {
	absent string // true when the field is missing or null
	badTyp string // true when present with the wrong type or an unparsable value (may assume present)
	value  string // the typed value (only read for rows without an error)
	why    string // reason text when badTyp
	text   string // the value as written, for messages
}

func q(s string) string { return warehouse.QuoteString(s) }

func typeName(f canonical.Field) string {
	switch f.Type {
	case canonical.Text:
		return "text"
	case canonical.Int:
		return "an integer"
	case canonical.Float:
		return "a number"
	case canonical.Bool:
		return "true or false"
	case canonical.Date:
		return "a date (YYYY-MM-DD)"
	case canonical.TextList:
		return "a list of text"
	case canonical.Time:
		return "an RFC 3339 time with offset"
	}
	return f.Type.String()
}

// timeChecks returns the wrong-value test and reason for a time held as text s.
func timeChecks(s string) (bad, why string) {
	bad = fmt.Sprintf("(NOT regexp_full_match(%[1]s, %[2]s) OR TRY_CAST(%[1]s AS TIMESTAMPTZ) IS NULL)", s, q(timeRE))
	why = fmt.Sprintf(`CASE WHEN regexp_full_match(%[1]s, %[2]s) THEN 'time "' || %[1]s || '" has no UTC offset (RFC 3339 needs one, e.g. 2026-03-01T10:00:00Z or +02:00)' `+
		`ELSE 'bad time "' || %[1]s || '": want RFC 3339 with offset, e.g. 2026-03-01T10:00:00+02:00' END`, s, q(timeNoOffsetRE))
	return bad, why
}

func dateChecks(s string) (bad, why string) {
	bad = fmt.Sprintf("(NOT regexp_full_match(%[1]s, %[2]s) OR TRY_CAST(%[1]s AS DATE) IS NULL)", s, q(dateRE))
	why = fmt.Sprintf(`'bad date "' || %s || '": want YYYY-MM-DD'`, s)
	return bad, why
}

// jsonField builds the expressions for a field read from a JSON record: r
// is the field's value as JSON text (NULL when the key is missing) and s the
// same value as a string (json_extract_string). Both come from one parse of
// the record; the type is told from r's first character, which is exact for
// the compact JSON that json_extract returns and much cheaper than parsing
// each value again.
func jsonField(f canonical.Field, r, s string) fieldSQL {
	isString := "starts_with(" + r + `, '"')`
	out := fieldSQL{absent: fmt.Sprintf("(%[1]s IS NULL OR %[1]s = 'null')", r), text: s}
	wrong := fmt.Sprintf(`'wrong type: want %s, got ' || %s`, typeName(f), r)
	out.why = wrong
	switch f.Type {
	case canonical.Text:
		out.badTyp = "NOT " + isString
		out.value = s
	case canonical.Int:
		out.badTyp = fmt.Sprintf("(NOT regexp_full_match(%s, %s) OR TRY_CAST(%s AS BIGINT) IS NULL)", r, q(`-?\d+`), s)
		out.value = fmt.Sprintf("TRY_CAST(%s AS BIGINT)", s)
	case canonical.Float:
		out.badTyp = fmt.Sprintf("(%s OR TRY_CAST(%s AS DOUBLE) IS NULL)", isString, r)
		out.value = fmt.Sprintf("TRY_CAST(%s AS DOUBLE)", s)
	case canonical.Bool:
		out.badTyp = fmt.Sprintf("(%s NOT IN ('true', 'false'))", r)
		out.value = fmt.Sprintf("(%s = 'true')", r)
	case canonical.Time:
		bad, why := timeChecks(s)
		out.badTyp = fmt.Sprintf("(NOT %s OR %s)", isString, bad)
		out.why = fmt.Sprintf("CASE WHEN NOT %s THEN %s ELSE %s END", isString, wrong, why)
		out.value = fmt.Sprintf("TRY_CAST(%s AS TIMESTAMPTZ)", s)
	case canonical.Date:
		bad, why := dateChecks(s)
		out.badTyp = fmt.Sprintf("(NOT %s OR %s)", isString, bad)
		out.why = fmt.Sprintf("CASE WHEN NOT %s THEN %s ELSE %s END", isString, wrong, why)
		out.value = fmt.Sprintf("TRY_CAST(%s AS DATE)", s)
	case canonical.TextList:
		out.badTyp = fmt.Sprintf("(NOT starts_with(%[1]s, '[') OR NOT list_has_all(['VARCHAR'], json_type(%[1]s, '$[*]')))", r)
		out.value = fmt.Sprintf("CAST((%s->>'$[*]') AS VARCHAR[])", r)
	case canonical.JSON:
		out.badTyp = "false"
		out.value = "CAST(" + r + " AS JSON)"
	default:
		panic("file: unhandled type " + f.Type.String())
	}
	return out
}

// csvField builds the expressions for a field read from CSV text c (NULL
// when the cell is empty or the column is missing).
func csvField(f canonical.Field, c string) fieldSQL {
	out := fieldSQL{absent: "(" + c + " IS NULL)", text: c}
	out.why = fmt.Sprintf(`'wrong type: want %s, got "' || %s || '"'`, typeName(f), c)
	t := "trim(" + c + ")"
	switch f.Type {
	case canonical.Text:
		out.badTyp = "false"
		out.value = c
	case canonical.Int:
		out.badTyp = fmt.Sprintf("(NOT regexp_full_match(%[1]s, %[2]s) OR TRY_CAST(%[1]s AS BIGINT) IS NULL)", t, q(intRE))
		out.value = fmt.Sprintf("TRY_CAST(%s AS BIGINT)", t)
	case canonical.Float:
		out.badTyp = fmt.Sprintf("(TRY_CAST(%s AS DOUBLE) IS NULL)", t)
		out.value = fmt.Sprintf("TRY_CAST(%s AS DOUBLE)", t)
	case canonical.Bool:
		out.badTyp = fmt.Sprintf("(lower(%s) NOT IN ('true', 'false', '1', '0', 'yes', 'no'))", t)
		out.value = fmt.Sprintf("TRY_CAST(%s AS BOOLEAN)", t)
	case canonical.Time:
		out.badTyp, out.why = timeChecks(c)
		out.value = fmt.Sprintf("TRY_CAST(%s AS TIMESTAMPTZ)", c)
	case canonical.Date:
		out.badTyp, out.why = dateChecks(c)
		out.value = fmt.Sprintf("TRY_CAST(%s AS DATE)", c)
	case canonical.TextList:
		// A JSON array of strings, or a ;-separated string.
		isJSON := fmt.Sprintf("starts_with(ltrim(%s), '[')", c)
		out.badTyp = fmt.Sprintf("(%[1]s AND NOT (json_valid(%[2]s) AND CASE WHEN json_valid(%[2]s) THEN json_type(%[2]s) = 'ARRAY' AND list_has_all(['VARCHAR'], json_type(%[2]s, '$[*]')) END))", isJSON, c)
		out.why = fmt.Sprintf(`'wrong type: want a JSON array of strings or a ;-separated list, got "' || %s || '"'`, c)
		out.value = fmt.Sprintf("CASE WHEN %[1]s THEN CASE WHEN json_valid(%[2]s) THEN CAST((CAST(%[2]s AS JSON)->>'$[*]') AS VARCHAR[]) END "+
			"ELSE CASE WHEN regexp_replace(%[2]s, '^[\\s;]+|[\\s;]+$', '', 'g') = '' THEN CAST([] AS VARCHAR[]) "+
			"ELSE regexp_split_to_array(regexp_replace(%[2]s, '^[\\s;]+|[\\s;]+$', '', 'g'), '\\s*;[\\s;]*') END END", isJSON, c)
	case canonical.JSON:
		out.badTyp = fmt.Sprintf("(NOT json_valid(%s))", c)
		out.why = fmt.Sprintf(`'malformed JSON "' || %s || '"'`, c)
		out.value = fmt.Sprintf("CASE WHEN json_valid(%[1]s) THEN CAST(%[1]s AS JSON) END", c)
	default:
		panic("file: unhandled type " + f.Type.String())
	}
	return out
}

// blank is the white space that makes a required text empty.
const blank = "chr(32) || chr(9) || chr(10) || chr(13)"

// errorExpr returns the CASE expression giving "field\treason" for the first
// problem of a record, or NULL. A field's own problems come first, in field
// order; then a missing one-of pair; then an impossible order of two times
// (canonical.Kind.Order).
func errorExpr(k *canonical.Kind, fs []fieldSQL) string {
	var b strings.Builder
	b.WriteString("CASE")
	for i, f := range k.Fields {
		x := fs[i]
		if f.Required {
			fmt.Fprintf(&b, "\n  WHEN %s THEN %s", x.absent, q(f.Name+"\trequired field is missing"))
		}
		fmt.Fprintf(&b, "\n  WHEN NOT %s AND %s THEN %s || (%s)", x.absent, x.badTyp, q(f.Name+"\t"), x.why)
		// A required value must say something: "" or blanks do not.
		switch {
		case f.Required && f.Type == canonical.Text:
			fmt.Fprintf(&b, "\n  WHEN trim(%s, %s) = '' THEN %s", x.value, blank, q(f.Name+"\trequired field is empty"))
		case f.Required && f.Type == canonical.TextList:
			fmt.Fprintf(&b, "\n  WHEN len(%s) = 0 THEN %s", x.value, q(f.Name+"\trequired field is an empty list"))
		}
		if len(f.Enum) > 0 {
			quoted := make([]string, len(f.Enum))
			for j, e := range f.Enum {
				quoted[j] = q(e)
			}
			fmt.Fprintf(&b, "\n  WHEN NOT %s AND %s NOT IN (%s) THEN %s || %s || %s", x.absent, x.value, strings.Join(quoted, ", "),
				q(f.Name+"\tvalue \""), x.value, q("\" is not one of "+strings.Join(f.Enum, ", ")))
		}
	}
	for i, f := range k.Fields {
		if f.OneOf == "" || f.Name > f.OneOf {
			continue // report each pair once, on its first field
		}
		for j, g := range k.Fields {
			if g.Name == f.OneOf {
				fmt.Fprintf(&b, "\n  WHEN %s AND %s THEN %s", fs[i].absent, fs[j].absent,
					q(f.Name+"\tone of "+f.Name+" or "+g.Name+" is required"))
			}
		}
	}
	for _, o := range k.Order {
		var early, late fieldSQL
		for i, f := range k.Fields {
			switch f.Name {
			case o.Earlier:
				early = fs[i]
			case o.Later:
				late = fs[i]
			}
		}
		fmt.Fprintf(&b, "\n  WHEN NOT %s AND NOT %s AND %s < %s THEN %s || %s || %s || %s",
			early.absent, late.absent, late.value, early.value,
			q(o.Later+"\t"), late.text, q(" is before "+o.Earlier+" "), early.text)
	}
	b.WriteString("\nEND")
	return b.String()
}

// stageTable is the temporary table holding one kind's typed records.
func stageTable(k *canonical.Kind) string { return "_shiplog_load_" + k.Name }

// createStageSQL creates the staging table of a kind: where each record
// came from, its text, its typed fields, extra and its first error.
func createStageSQL(k *canonical.Kind) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TEMP TABLE %s (file INTEGER, line BIGINT, text VARCHAR", stageTable(k))
	for _, f := range k.Fields {
		fmt.Fprintf(&b, ", %s %s", warehouse.QuoteIdent(f.Name), f.Type.SQL())
	}
	b.WriteString(", extra JSON, err VARCHAR)")
	return b.String()
}

// jsonStageSQL types every JSON Lines record of kind k read by the query
// src (columns file, line, text). One json_extract per record parses it
// once for all fields.
func jsonStageSQL(k *canonical.Kind, src string) string {
	// The last path is the kind, so that a record's keys can be counted
	// against the known ones present without another parse.
	paths := make([]string, len(k.Fields), len(k.Fields)+1)
	known := []string{`"kind":null`}
	present := make([]string, 0, len(k.Fields)+1)
	fs := make([]fieldSQL, len(k.Fields))
	for i, f := range k.Fields {
		paths[i] = q("$." + jsonPathKey(f.Name))
		known = append(known, fmt.Sprintf("%q:null", f.Name))
		fs[i] = jsonField(f, fmt.Sprintf("v[%d]", i+1), fmt.Sprintf("s[%d]", i+1))
		present = append(present, fmt.Sprintf("(v[%d] IS NOT NULL)::INTEGER", i+1))
	}
	paths = append(paths, q("$.kind"))
	present = append(present, fmt.Sprintf("(v[%d] IS NOT NULL)::INTEGER", len(k.Fields)+1))
	// The record's text is kept only for bad records (messages, rejects).
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s SELECT file, line, CASE WHEN err IS NOT NULL THEN text END", stageTable(k))
	for _, f := range k.Fields {
		b.WriteString(", " + warehouse.QuoteIdent("v_"+f.Name))
	}
	b.WriteString(", extra, err FROM (SELECT file, line, text")
	for i, x := range fs {
		fmt.Fprintf(&b, ",\n  %s AS %s", x.value, warehouse.QuoteIdent("v_"+k.Fields[i].Name))
	}
	// Unknown keys go to extra: the record minus every known key.
	fmt.Fprintf(&b, ",\n  CASE WHEN len(json_keys(text)) > %s THEN json_merge_patch(text, %s) END AS extra",
		strings.Join(present, " + "), q("{"+strings.Join(known, ",")+"}"))
	fmt.Fprintf(&b, ",\n  %[1]s AS err\nFROM (SELECT file, line, text, json_extract(text, [%[2]s]) AS v, json_extract_string(text, [%[2]s]) AS s FROM (%[3]s)))",
		errorExpr(k, fs), strings.Join(paths, ", "), src)
	return b.String()
}

// jsonPathKey quotes a key for a JSON path when it is not a plain
// identifier (all field names are; quoted paths are slower to evaluate).
func jsonPathKey(name string) string {
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return `"` + name + `"`
		}
	}
	return name
}

// csvStageSQL types every row of the CSV relation src (all VARCHAR
// columns, with the header's names, plus ordinality) as kind k, into its
// staging table or, when direct, its canonical table.
func csvStageSQL(k *canonical.Kind, src string, file int, header []string, direct bool, source string) string {
	has := map[string]bool{}
	for _, h := range header {
		has[h] = true
	}
	fs := make([]fieldSQL, len(k.Fields))
	for i, f := range k.Fields {
		col := "CAST(NULL AS VARCHAR)"
		if has[f.Name] {
			col = warehouse.QuoteIdent(f.Name)
		}
		fs[i] = csvField(f, col)
	}
	var extras, all []string
	for _, h := range header {
		if h == invalidColumn {
			continue
		}
		all = append(all, q(h), warehouse.QuoteIdent(h))
		if _, known := k.Field(h); known || h == "kind" {
			continue
		}
		extras = append(extras, q(h), warehouse.QuoteIdent(h))
	}
	extra := "CAST(NULL AS JSON)"
	if len(extras) > 0 {
		extra = fmt.Sprintf("CASE WHEN json_merge_patch('{}', json_object(%[1]s)) <> '{}' THEN json_merge_patch('{}', json_object(%[1]s)) END", strings.Join(extras, ", "))
	}
	errs := errorExpr(k, fs)
	if has["kind"] {
		// A kind column, when present, must agree with the file's kind.
		errs = fmt.Sprintf("CASE WHEN \"kind\" IS NOT NULL AND \"kind\" NOT IN (%s, %s) THEN 'kind\tvalue \"' || \"kind\" || '\" does not match the file''s kind %s' ELSE %s END",
			q(k.Name), q(k.Table), k.Name, errs)
	}
	if has[invalidColumn] {
		// A row sanitize replaced: its error is written in the column.
		errs = fmt.Sprintf("CASE WHEN %[1]s IS NOT NULL THEN %[1]s ELSE %[2]s END", warehouse.QuoteIdent(invalidColumn), errs)
	}
	var b strings.Builder
	b.WriteString(insertHead(k, fmt.Sprintf("%d, ordinality + 1, CASE WHEN err IS NOT NULL THEN CAST(json_object(%s) AS VARCHAR) END", file, strings.Join(all, ", ")), direct, source))
	fmt.Fprintf(&b, " FROM (SELECT *")
	for i, f := range k.Fields {
		fmt.Fprintf(&b, ",\n  %s AS %s", fs[i].value, warehouse.QuoteIdent("v_"+f.Name))
	}
	fmt.Fprintf(&b, ",\n  %s AS extra,\n  %s AS err\nFROM %s)", extra, errs, src)
	b.WriteString(insertTail(direct))
	return b.String()
}

// deleteSQL removes the target rows of source $1 whose key is among the
// batch's good records. A join (USING), not EXISTS: DuckDB plans EXISTS as
// a delim join whose fixed cost is several times the whole delete for the
// small batches of pushes; a target row matched by two records of the
// batch is deleted once.
func deleteSQL(k *canonical.Kind) string {
	var conds []string
	for _, key := range k.Key {
		conds = append(conds, fmt.Sprintf("s.%[1]s = t.%[1]s", warehouse.QuoteIdent(key)))
	}
	return fmt.Sprintf("DELETE FROM %s AS t USING %s AS s WHERE t.source = $1 AND s.err IS NULL AND %s",
		warehouse.QuoteIdent(k.Table), stageTable(k), strings.Join(conds, " AND "))
}

// deltaSQL records in the log of canonical writes the change to the
// digests made by the target rows of source $1 whose key is among the
// batch's good records (deleteSQL's rows): with sign -1 before the delete
// (the rows it removes, whichever service they were), with +1 after the
// insert (the rows it wrote, as stored). A semi join: a row matched by two
// keys of the batch counts once, as it is deleted once.
func deltaSQL(k *canonical.Kind, sign int) string {
	var conds []string
	for _, key := range k.Key {
		conds = append(conds, fmt.Sprintf("s.%[1]s = t.%[1]s", warehouse.QuoteIdent(key)))
	}
	keys := fmt.Sprintf("(SELECT %s FROM %s WHERE err IS NULL)", keyList(k), stageTable(k))
	return canonical.DeltaSQL(k.Table, sign, fmt.Sprintf("SEMI JOIN %s AS s ON %s WHERE t.source = $1", keys, strings.Join(conds, " AND ")))
}

// insertSQL writes the batch's good records. When the batch may hold a key
// twice (dups), the last record of each key wins (files in the order given,
// lines in file order); otherwise the window is skipped.
func insertSQL(k *canonical.Kind, dups bool) string {
	var cols []string
	for _, f := range k.Fields {
		cols = append(cols, warehouse.QuoteIdent(f.Name))
	}
	q := fmt.Sprintf("INSERT INTO %[1]s (%[2]s, extra, source) SELECT %[2]s, extra, $1 FROM %[3]s WHERE err IS NULL",
		warehouse.QuoteIdent(k.Table), strings.Join(cols, ", "), stageTable(k))
	if dups {
		q += fmt.Sprintf(" QUALIFY row_number() OVER (PARTITION BY %s ORDER BY file DESC, line DESC) = 1", keyList(k))
	}
	return q
}

// goodSQL counts the batch's good records and says whether they repeat a
// key.
func goodSQL(k *canonical.Kind) string {
	return fmt.Sprintf("SELECT count(*), count(*) > count(DISTINCT (%s)) FROM %s WHERE err IS NULL", keyList(k), stageTable(k))
}

func keyList(k *canonical.Kind) string {
	keys := make([]string, len(k.Key))
	for i, key := range k.Key {
		keys[i] = warehouse.QuoteIdent(key)
	}
	return strings.Join(keys, ", ")
}
