// Package query implements `shiplog query`: read-only SQL against the
// warehouse, either ad hoc or by the name of a query in queries/.
package query

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of a query run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)

	SQL    string
	Format string
}

// NewCmdQuery returns the query command. runF replaces the run function in
// tests of flag parsing.
func NewCmdQuery(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.WarehouseReadOnly}
	cmd := &cobra.Command{
		Use:   "query SQL",
		Short: "Run a read-only SQL query against the warehouse",
		Long: `Run one read-only SQL statement against the warehouse and print the result.

Statements that would change the warehouse (INSERT, UPDATE, DELETE, CREATE,
COPY, ATTACH, SET …) are refused, and the file is opened read-only.`,
		Example: `  shiplog query "select service, count(*) from deployments group by 1"
  shiplog query --format json "select * from incidents where severity = 'sev1'"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SQL = args[0]
			if err := output.CheckFormat(opts.Format); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, json or csv")
	return cmd
}

// Run executes the query and prints the result.
func Run(ctx context.Context, opts *Options) error {
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := ReadOnly(ctx, db, opts.SQL)
	if err != nil {
		return err
	}
	return output.Write(opts.IO.Out, opts.Format, t, opts.IO.IsStdoutTTY())
}

// ReadOnly runs one statement after checking that DuckDB classifies it as a
// query (SELECT, or EXPLAIN of one). Anything else is refused before it runs,
// whatever mode the warehouse was opened in.
func ReadOnly(ctx context.Context, db *warehouse.DB, sqlText string) (*output.Table, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := warehouse.CheckReadOnly(ctx, conn, sqlText); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, sqlText)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return output.FromRows(rows)
}
