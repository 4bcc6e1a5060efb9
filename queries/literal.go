package queries

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// FindingsSQL is the statement Run executes for q: for a control, only the
// rows with a rule (its findings); otherwise q.SQL.
func (q Query) FindingsSQL() string {
	if q.IsControl() {
		return "SELECT * FROM (\n" + q.SQL + "\n) AS control WHERE rule IS NOT NULL"
	}
	return q.SQL
}

// CheckedSQL is the statement Checked executes: the number of distinct
// subjects a control examined.
func (q Query) CheckedSQL() string {
	return "SELECT count(DISTINCT subject) AS checked FROM (\n" + q.SQL + "\n) AS control"
}

// Inline returns text (q's SQL or one built on it, such as FindingsSQL) with
// every $name parameter of q replaced by its value as a typed SQL literal,
// for a client that cannot bind named parameters (Flight SQL). Values are
// converted and defaulted exactly as for Run; text is quoted by doubling
// single quotes. Parameters inside string literals, quoted identifiers and
// comments are left alone.
func (q Query) Inline(text string, params map[string]string) (string, error) {
	if _, err := q.Args(params); err != nil {
		return "", err
	}
	lits := map[string]string{}
	for _, p := range q.Params {
		var v any
		if s, ok := params[p.Name]; ok {
			v, _ = convert(p, s)
		} else if !p.Null {
			v, _ = convert(p, p.Default)
		}
		lit, err := Literal(p.Type, v)
		if err != nil {
			return "", fmt.Errorf("query %s: parameter %s: %w", q.Name, p.Name, err)
		}
		lits[p.Name] = lit
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(text) {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(text))
			b.WriteString(text[i:j])
			i = j
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			j := strings.IndexByte(text[i:], '\n')
			if j < 0 {
				j = len(text) - i
			}
			b.WriteString(text[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			end := len(text)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(text[i:end])
			i = end
		case c == '$':
			j := i + 1
			for j < len(text) && (text[j] == '_' || text[j] >= 'a' && text[j] <= 'z' || text[j] >= 'A' && text[j] <= 'Z' || j > i+1 && text[j] >= '0' && text[j] <= '9') {
				j++
			}
			name := text[i+1 : j]
			lit, ok := lits[name]
			if !ok {
				if name != "" {
					return "", fmt.Errorf("query %s: $%s is not a declared parameter", q.Name, name)
				}
				b.WriteByte(c)
				i++
				continue
			}
			b.WriteString(lit)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// Literal renders a converted parameter value (as Args gives it; nil is
// NULL) as a DuckDB literal of the parameter's type.
func Literal(typ string, v any) (string, error) {
	sqlType := map[string]string{"text": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMPTZ"}[typ]
	if sqlType == "" {
		return "", fmt.Errorf("unknown type %q", typ)
	}
	if v == nil {
		return "CAST(NULL AS " + sqlType + ")", nil
	}
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return "", fmt.Errorf("text holds a NUL character")
		}
		return "CAST(" + warehouse.QuoteString(x) + " AS VARCHAR)", nil
	case int64:
		return "CAST(" + strconv.FormatInt(x, 10) + " AS BIGINT)", nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "CAST('" + strconv.FormatFloat(x, 'g', -1, 64) + "' AS DOUBLE)", nil
		}
		return "CAST(" + strconv.FormatFloat(x, 'g', -1, 64) + " AS DOUBLE)", nil
	case bool:
		return strings.ToUpper(strconv.FormatBool(x)), nil
	case time.Time:
		if typ == "date" {
			return "DATE '" + x.Format("2006-01-02") + "'", nil
		}
		return "TIMESTAMPTZ '" + x.UTC().Format("2006-01-02 15:04:05.999999") + "+00'", nil
	}
	return "", fmt.Errorf("unsupported value %T", v)
}
