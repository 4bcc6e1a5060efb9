// Package export implements `shiplog export`: the canonical tables and the
// marts as Parquet or CSV files for a data lake. The work is done by the
// export package; this one parses flags and opens the warehouse.
package export

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/export"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of an export.
type Options struct {
	IO *iostreams.IOStreams
	// Warehouse opens the warehouse read-write (the run is recorded in it).
	Warehouse func(context.Context) (*warehouse.DB, error)
	// DBPath is the warehouse file, checked to exist before it is opened
	// (an export never creates an empty warehouse).
	DBPath string

	Out    string
	Format string
	Tables []string
	Since  string
	// List prints the tables an export writes instead of writing them.
	List bool
}

// NewCmdExport returns the export command. runF replaces the run function
// in tests of flag parsing.
func NewCmdExport(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse}
	cmd := &cobra.Command{
		Use:                   "export --out DIR [--format parquet|csv] [--since last|ID] [--tables T]",
		DisableFlagsInUseLine: true,
		Short:                 "Write the tables and marts as Parquet or CSV for a data lake",
		Long: `Write every canonical table (deployments, changes, incidents …) and every
mart (fct_*, dim_*) into DIR: Parquet with zstd compression (default) or CSV,
fact tables split by the UTC month of their time column into Hive-style
folders (fct_deployments/month=2026-07/…), dimensions whole, and a
_manifest.json listing each table's columns and types, partitions, row
counts, content hashes, files (with SHA-256) and data range, with the
shiplog and schema versions.

The export is written beside DIR and swapped in at the end: until then DIR
keeps the previous export, whole, even if the command is killed. DIR must be
new, empty, or an earlier export.

--since last keeps the files of every partition whose rows have not changed
since the export in DIR (judged by a hash of the rows, recorded in the
warehouse) and writes only the others. --tables limits the export to the
named tables; DIR then holds only those. See docs/export.md for reading the
files from DuckDB, Spark, Trino/Athena and BigQuery.`,
		Example: `  shiplog export --out lake/shiplog
  shiplog export --out lake/shiplog --since last
  shiplog export --out /tmp/deploys --format csv \
      --tables deployments,fct_deployments
  shiplog export --list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := output.CheckFormat(opts.Format, export.Formats...); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if opts.Out == "" && !opts.List {
				return cmdutil.FlagErrorf("--out is required: the folder to write the export to")
			}
			if opts.DBPath = f.DBPath; opts.DBPath == "" {
				opts.DBPath = warehouse.DefaultPath
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "folder to write the export to")
	cmd.Flags().StringVar(&opts.Format, "format", "parquet", "file format: parquet or csv")
	cmd.Flags().StringVar(&opts.Since, "since", "", "keep unchanged partitions of the export in --out: last, or its export id")
	cmd.Flags().StringSliceVar(&opts.Tables, "tables", nil, "export only these tables (comma-separated)")
	cmd.Flags().BoolVar(&opts.List, "list", false, "list the tables an export writes, with how each is partitioned")
	return cmd
}

// Run writes the export (or lists the tables).
func Run(ctx context.Context, opts *Options) error {
	if _, err := os.Stat(opts.DBPath); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("warehouse %s does not exist: load data first (shiplog ingest file, or shiplog demo)", opts.DBPath)
		}
		return err
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if opts.List {
		return list(ctx, db, opts)
	}
	_, err = export.Run(ctx, db, export.Options{
		Out: opts.Out, Format: opts.Format, Tables: opts.Tables, Since: opts.Since, Progress: opts.IO.ErrOut,
	})
	var ue *export.UsageError
	if errors.As(err, &ue) {
		return &cmdutil.FlagError{Err: err}
	}
	return err
}

func list(ctx context.Context, db *warehouse.DB, opts *Options) error {
	tables, err := export.Discover(ctx, db)
	if err != nil {
		return err
	}
	tables, err = export.Select(tables, opts.Tables)
	if err != nil {
		return &cmdutil.FlagError{Err: err}
	}
	t := &output.Table{Columns: []string{"table", "kind", "partitioned_by", "columns"}}
	for _, tb := range tables {
		part := "–"
		if tb.Partitioned() {
			part = "month of " + tb.PartitionColumn
		}
		t.Rows = append(t.Rows, []any{tb.Name, tb.Kind, part, len(tb.Columns)})
	}
	return output.Write(opts.IO.Out, "table", t, opts.IO.IsStdoutTTY())
}
