package file

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC) }

func openDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dump returns the rows of a query, one string per row, "col=value" joined
// by " | "; times in UTC RFC 3339, lists and JSON as JSON.
func dump(t *testing.T, db *warehouse.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = cols[i] + "=" + formatValue(v)
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func tableRows(t *testing.T, db *warehouse.DB, table string) []string {
	t.Helper()
	return dump(t, db, "SELECT * FROM "+warehouse.QuoteIdent(table)+" ORDER BY ALL")
}
