package export

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// Table kinds.
const (
	KindCanonical = "canonical"
	KindMart      = "mart"
)

// DefaultPartition is the partition of rows whose partition column is
// NULL: the name Hive, Spark and DuckDB all read back as NULL.
const DefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// rowAlias names the table in the hashing query, so that hash(alias) is the
// hash of the whole row. A column of the same name would shadow it, so
// Discover refuses one.
const rowAlias = "shiplog export row"

// Table is one table (or view) the export writes.
type Table struct {
	Name string
	// Kind is canonical (a table of the canonical event format, created by
	// the migrations) or mart (a model of the transform's marts layer).
	Kind    string
	Columns []Column
	// PartitionColumn is the time column whose UTC month partitions the
	// table (Hive-style, PartitionKey=YYYY-MM); empty for a table written
	// whole (dimensions, tables without a time column).
	PartitionColumn string
	// PartitionKey is the partition directory's name: "month", or
	// "partition_month" when the table has a column called month.
	PartitionKey string
}

// Column is one column with its DuckDB type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// NotNull is true when the schema (canonical tables) or a not_null test
	// of the model (marts) declares that the column is never NULL.
	NotNull bool `json:"not_null"`
}

// Partitioned reports whether the table is written by month.
func (t Table) Partitioned() bool { return t.PartitionColumn != "" }

// Discover lists every table an export can write, in a stable order:
// the canonical tables (internal/canonical, the Go description of the
// migrations' tables, which a warehouse test keeps in step with them) in
// load order, then every model of the transform's marts layer by name.
// Nothing here is a hand-kept list: a new mart is exported as soon as the
// transform has built it. Columns and types are read from the warehouse
// itself. A mart the registry names but the warehouse lacks is an error
// (the warehouse was transformed by an older shiplog, or never).
func Discover(ctx context.Context, q querier) ([]Table, error) {
	models, err := transform.Load(transform.Layers)
	if err != nil {
		return nil, err
	}
	var tables []Table
	for _, k := range canonical.Kinds {
		tables = append(tables, Table{Name: k.Table, Kind: KindCanonical})
	}
	notNull := map[string]map[string]bool{}
	var marts []Table
	for _, m := range models {
		if m.Layer != "marts" {
			continue
		}
		nn := map[string]bool{}
		for _, t := range m.Tests {
			if t.Kind != "not_null" {
				continue
			}
			for _, c := range strings.Split(t.Args, ",") {
				nn[strings.TrimSpace(c)] = true
			}
		}
		notNull[m.Name] = nn
		marts = append(marts, Table{Name: m.Name, Kind: KindMart})
	}
	sort.Slice(marts, func(i, j int) bool { return marts[i].Name < marts[j].Name })
	tables = append(tables, marts...)

	cols, err := catalog(ctx, q)
	if err != nil {
		return nil, err
	}
	var missing []string
	for i := range tables {
		t := &tables[i]
		cs, ok := cols[t.Name]
		if !ok {
			if t.Kind == KindCanonical {
				return nil, fmt.Errorf("export: canonical table %s is missing from the warehouse", t.Name)
			}
			missing = append(missing, t.Name)
			continue
		}
		for j := range cs {
			if t.Kind == KindMart {
				cs[j].NotNull = notNull[t.Name][cs[j].Name]
			}
			if cs[j].Name == rowAlias {
				return nil, fmt.Errorf("export: %s has a column named %q, which the export reserves", t.Name, rowAlias)
			}
		}
		t.Columns = cs
		t.PartitionColumn = partitionColumn(*t)
		if t.Partitioned() {
			t.PartitionKey = "month"
			for _, c := range cs {
				if c.Name == "month" {
					t.PartitionKey = "partition_month"
				}
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("export: the warehouse has no %s: run `shiplog transform` first (a mart that lives only while the transform runs, a temporary view, cannot be exported)", strings.Join(missing, ", "))
	}
	return tables, nil
}

// partitionColumn decides how a table is split. Dimensions (marts named
// dim_*, as dbt names them) are written whole. Any other table is split by
// the month of its first time column that is declared never NULL, or
// failing that its first time column: for the canonical tables that is the
// required time of each kind (deployments.finished_at, incidents.opened_at,
// …), for the marts the time a row counts in (fct_deployments.finished_at,
// not the optional started_at before it). A table without a time column
// (teams, services) is written whole.
func partitionColumn(t Table) string {
	if t.Kind == KindMart && strings.HasPrefix(t.Name, "dim_") {
		return ""
	}
	first := ""
	for _, c := range t.Columns {
		if !isTime(c.Type) {
			continue
		}
		if c.NotNull {
			return c.Name
		}
		if first == "" {
			first = c.Name
		}
	}
	return first
}

func isTime(typ string) bool {
	return typ == "DATE" || strings.HasPrefix(typ, "TIMESTAMP")
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// catalog returns the columns of every table and view in the main schema.
func catalog(ctx context.Context, q querier) (map[string][]Column, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT table_name, column_name, data_type, is_nullable = 'NO'
		FROM information_schema.columns
		WHERE table_catalog = current_database() AND table_schema = 'main'
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("export: read the catalog: %w", err)
	}
	defer rows.Close()
	out := map[string][]Column{}
	for rows.Next() {
		var table string
		var c Column
		if err := rows.Scan(&table, &c.Name, &c.Type, &c.NotNull); err != nil {
			return nil, err
		}
		out[table] = append(out[table], c)
	}
	return out, rows.Err()
}

// monthExpr is the SQL for a row's partition value: the UTC month of the
// partition column as YYYY-MM (NULL when the column is NULL).
func (t Table) monthExpr() string {
	col := warehouse.QuoteIdent(t.PartitionColumn)
	for _, c := range t.Columns {
		if c.Name == t.PartitionColumn && c.Type == "TIMESTAMP WITH TIME ZONE" {
			col = "timezone('UTC', " + col + ")"
		}
	}
	return "strftime(" + col + ", '%Y-%m')"
}

// partExpr is monthExpr with NULL named as the default partition, or an
// empty string for an unpartitioned table: the key a partition is
// recorded under.
func (t Table) partExpr() string {
	if !t.Partitioned() {
		return "''"
	}
	return "coalesce(" + t.monthExpr() + ", " + warehouse.QuoteString(DefaultPartition) + ")"
}

// schemaHash identifies the table's shape; a partition is kept only if its
// table's shape is unchanged too.
func (t Table) schemaHash() string {
	var b strings.Builder
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "%s %s\n", c.Name, c.Type)
	}
	fmt.Fprintf(&b, "partition %s %s\n", t.PartitionColumn, t.PartitionKey)
	return sha256Hex([]byte(b.String()))[:32]
}
