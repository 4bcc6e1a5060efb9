package transform

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
)

// A model's name holds one relation at a time: when its materialization
// changes between runs (view, table, temporary table, view again) the run
// replaces what the last one left, and the build's transaction stays
// usable (DuckDB 2.0 aborts a transaction on any failed statement, so the
// run must not try to drop a kind the name does not hold).
func TestMaterializationChangesReplaceTheRelation(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	steps := []struct {
		header string
		want   string // the relation main.m_kind holds afterwards; "" for none
	}{
		{"-- materialized: view\n", "VIEW"},
		{"-- materialized: table\n", "TABLE"},
		{"-- materialized: view\n", "VIEW"},
		{"-- materialized: temp\n", ""},
		{"-- materialized: table\n", "TABLE"},
	}
	for i, s := range steps {
		ms, err := Load([]Layer{layer("marts", map[string]string{
			"m_kind.sql": s.header + fmt.Sprintf("select %d as step", i),
			"m_read.sql": "select step from m_kind",
		})})
		if err != nil {
			t.Fatal(err)
		}
		if err := build(ctx, db, config.Default(), ms, io.Discard, true); err != nil {
			t.Fatalf("step %d (%s): %v", i, strings.TrimSpace(s.header), err)
		}
		var kinds []string
		rows, err := db.QueryContext(ctx, `select 'TABLE' from duckdb_tables() where schema_name = 'main' and table_name = 'm_kind' and not temporary
			union all select 'VIEW' from duckdb_views() where schema_name = 'main' and view_name = 'm_kind' and not temporary`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, k)
		}
		rows.Close()
		if want := []string{s.want}; s.want == "" && len(kinds) != 0 || s.want != "" && !slices.Equal(kinds, want) {
			t.Errorf("step %d (%s): main.m_kind is %v, want %q", i, strings.TrimSpace(s.header), kinds, s.want)
		}
		if got := count(t, db, "select step from m_read"); got != int64(i) {
			t.Errorf("step %d: m_read reads step %d", i, got)
		}
	}
}
