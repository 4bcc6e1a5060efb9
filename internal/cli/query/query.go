// Package query implements `shiplog query`: read-only SQL against the
// warehouse, either ad hoc or by the name of a query in queries/.
package query

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/queries"
)

// Options are the inputs of a query run.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	// Config and Now supply a control's parameters (as `shiplog audit` sets
	// them) when it is run by name; either may be nil.
	Config func() (*config.Config, error)
	Now    func() time.Time

	// Exactly one of SQL, Name and List is set.
	SQL  string
	Name string
	List bool
	// Params are the --param k=v values for a named query.
	Params map[string]string
	Format string
	// Wide and Columns choose the columns on a terminal (see output).
	Wide    bool
	Columns []string
	// AllowFiles lets an ad hoc query read local files (read_csv, read_json,
	// read_parquet, FROM 'file.csv' …). Without it the warehouse is opened
	// sandboxed, with no file access at all. Nothing lets a query write.
	AllowFiles bool

	// Server, when set, is the HOST:PORT of a running `shiplog serve`'s
	// Flight SQL endpoint, asked instead of opening the file; the token is
	// read with Getenv from the variable named by serve.token_env.
	Server string
	Getenv func(string) string
}

// NewCmdQuery returns the query command. runF replaces the run function in
// tests of flag parsing.
func NewCmdQuery(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Config: f.Config, Now: f.Now, Getenv: f.Getenv}
	var params []string
	cmd := &cobra.Command{
		Use:   "query [SQL | --name NAME [--param k=v]... | --list]",
		Short: "Run a read-only SQL query, or a named one, against the warehouse",
		Long: `Run one read-only SQL statement against the warehouse and print the result,
or run one of shiplog's named queries (retrospective questions, leadership
summaries and the governance controls) by name with typed parameters.

The text must be one SELECT statement (WITH, FROM, VALUES, DESCRIBE,
SUMMARIZE, or EXPLAIN of one), as DuckDB parses it; anything else (INSERT,
UPDATE, DELETE, CREATE, COPY, ATTACH, SET, PRAGMA, EXPLAIN ANALYZE, several
statements …) is refused before any of it runs. The file is opened
read-only, the query runs in a read-only transaction, and DuckDB is started
without access to any other file. --allow-files lets the query read local
files (read_csv, read_json, read_parquet, FROM 'file.csv'); nothing lets it
write one. A control run by name prints only its findings; ` + "`shiplog audit`" + ` runs
every control with the parameters from shiplog.yaml and counts them.`,
		Example: `  shiplog query "select service, count(*) from fct_deployments
      where is_production group by 1"
  shiplog query --format json "from fct_incidents where severity = 'sev1'"
  shiplog query --list
  shiplog query --name slowest-changes --param team=payments \
      --param from=2026-01-01
  shiplog query --allow-files "select count(*) from read_json('events.jsonl')"
  shiplog query --server 127.0.0.1:8815 "select count(*) from fct_deployments"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.SQL = args[0]
			}
			n := 0
			for _, set := range []bool{len(args) == 1, opts.Name != "", opts.List} {
				if set {
					n++
				}
			}
			if n != 1 {
				return cmdutil.FlagErrorf("give exactly one of: an SQL statement, --name NAME, or --list")
			}
			if len(params) > 0 && opts.Name == "" {
				return cmdutil.FlagErrorf("--param needs --name")
			}
			if opts.AllowFiles && (opts.Server != "" || opts.SQL == "") {
				return cmdutil.FlagErrorf("--allow-files applies to an SQL statement run on the local warehouse, not to --name, --list or --server")
			}
			if opts.Warehouse == nil {
				// Sandboxed: DuckDB reaches no file but the warehouse,
				// unless --allow-files.
				allow := opts.AllowFiles
				opts.Warehouse = func(ctx context.Context) (*warehouse.DB, error) {
					return f.WarehouseWith(ctx, warehouse.Options{ReadOnly: true, Sandbox: !allow, Locked: true})
				}
			}
			opts.Params = map[string]string{}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return cmdutil.FlagErrorf("--param %q: write NAME=VALUE", p)
				}
				k = strings.TrimSpace(k)
				if _, dup := opts.Params[k]; dup {
					return cmdutil.FlagErrorf("--param %s given twice", k)
				}
				opts.Params[k] = v
			}
			if err := output.CheckFormat(opts.Format); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, tsv, json or csv (table is tab-separated when piped)")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "on a terminal, show every column, unfitted")
	cmd.Flags().StringSliceVar(&opts.Columns, "columns", nil, "print only these `COLUMNS`, in this order (comma-separated)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "run the named query `NAME` (see --list)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "parameter `NAME=VALUE` of the named query (repeatable)")
	cmd.Flags().StringVar(&opts.Server, "server", "", "ask the query endpoint of a running `shiplog serve` at `HOST:PORT` instead of opening the file")
	cmd.Flags().BoolVar(&opts.List, "list", false, "list the named queries with their audience, description and parameters")
	cmd.Flags().BoolVar(&opts.AllowFiles, "allow-files", false, "let the statement read local files (read_csv, read_json, read_parquet …); it can never write one")
	return cmd
}

// Run executes the query (or lists the named ones) and prints the result.
func Run(ctx context.Context, opts *Options) error {
	if opts.List {
		return opts.print(ListTable(queries.List()))
	}
	var q queries.Query
	if opts.Name != "" {
		var ok bool
		if q, ok = queries.Get(opts.Name); !ok {
			return unknownQuery(opts.Name)
		}
		// Check the parameters before opening the warehouse.
		if _, err := q.Args(opts.Params); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if q.IsControl() && opts.Config != nil {
			params, err := controlParams(q, opts)
			if err != nil {
				return err
			}
			opts.Params = params
		}
	}
	if opts.Server != "" {
		token, err := ServerToken(opts.Config, opts.Getenv)
		if err != nil {
			return err
		}
		text := opts.SQL
		if opts.Name != "" {
			remote := func(ctx context.Context, sql string) (*output.Table, error) {
				return server.RemoteQuery(ctx, opts.Server, token, sql)
			}
			if err := checkNames(ctx, remote, q, opts.Params); err != nil {
				return err
			}
			if text, err = q.Inline(q.FindingsSQL(), opts.Params); err != nil {
				return err
			}
		}
		t, err := server.RemoteQuery(ctx, opts.Server, token, text)
		if err != nil {
			return err
		}
		return opts.print(t)
	}
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var t *output.Table
	if opts.Name != "" {
		if err := checkNames(ctx, output.DB(db), q, opts.Params); err != nil {
			return err
		}
		t, err = q.Run(ctx, db, opts.Params)
	} else {
		t, err = ReadOnly(ctx, db, opts.SQL, warehouse.Policy{Files: opts.AllowFiles})
	}
	if err != nil {
		return err
	}
	return opts.print(t)
}

// Named runs the named query as `shiplog query --name NAME --param k=v`
// does on an open warehouse (a control with the parameters `shiplog audit`
// gives it, overridable), for the HTTP read API. An unknown name is a
// *suggest.UnknownError; a bad parameter (unknown, not of its declared
// type, a name the warehouse does not know) a *cmdutil.FlagError naming it.
func Named(ctx context.Context, db *warehouse.DB, cfg *config.Config, now func() time.Time, name string, params map[string]string) (*output.Table, error) {
	q, ok := queries.Get(name)
	if !ok {
		return nil, unknownQuery(name)
	}
	if _, err := q.Args(params); err != nil {
		return nil, &cmdutil.FlagError{Err: err}
	}
	if q.IsControl() {
		o := &Options{Config: func() (*config.Config, error) { return cfg, nil }, Now: now, Params: params}
		var err error
		if params, err = controlParams(q, o); err != nil {
			return nil, err
		}
	}
	if err := checkNames(ctx, output.DB(db), q, params); err != nil {
		return nil, &cmdutil.FlagError{Err: err}
	}
	return q.Run(ctx, db, params)
}

// print writes a result as the output flags say: fitted to a terminal,
// raw when piped.
func (opts *Options) print(t *output.Table) error {
	tf := cmdutil.TableFlags{Format: opts.Format, Wide: opts.Wide, Columns: opts.Columns}
	return tf.Print(opts.IO, t, nil)
}

// controlParams starts from the parameters `shiplog audit` gives the
// control (production environments, required approvals, freezes … from
// shiplog.yaml) and lets --param override them.
func controlParams(q queries.Query, opts *Options) (map[string]string, error) {
	cfg, err := opts.Config()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	base, err := audit.Params(cfg, time.Time{}, time.Time{}, now)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range q.Params {
		if v, ok := base[p.Name]; ok {
			out[p.Name] = v
		}
	}
	for k, v := range opts.Params {
		out[k] = v
	}
	return out, nil
}

// ListTable describes queries one per row: name, audience, kind,
// description and parameters ("from timestamp '1970-01-01', …").
func ListTable(qs []queries.Query) *output.Table {
	t := &output.Table{Columns: []string{"name", "audience", "kind", "description", "params"}}
	for _, q := range qs {
		ps := make([]string, len(q.Params))
		for i, p := range q.Params {
			ps[i] = p.String()
		}
		t.Rows = append(t.Rows, []any{q.Name, q.Audience, q.Kind, q.Description, strings.Join(ps, ", ")})
	}
	return t
}

// ReadOnly runs one statement that the guard accepts (warehouse.Guard: one
// SELECT, or EXPLAIN of one, as DuckDB parses it, reaching no file unless
// p.Files) in a read-only transaction. Anything else is refused before any
// of it is prepared, whatever mode the warehouse was opened in.
func ReadOnly(ctx context.Context, db *warehouse.DB, sqlText string, p warehouse.Policy) (*output.Table, error) {
	rows, done, err := db.QueryReadOnly(ctx, sqlText, p)
	if err != nil {
		return nil, err
	}
	defer done()
	return output.FromRows(rows)
}

// ServerToken reads the query endpoint's token from the variable named by
// serve.token_env ("" when it is not set: a loopback server without a token).
func ServerToken(cfgFn func() (*config.Config, error), getenv func(string) string) (string, error) {
	if cfgFn == nil || getenv == nil {
		return "", nil
	}
	cfg, err := cfgFn()
	if err != nil {
		return "", err
	}
	if cfg.Serve.TokenEnv == "" {
		return "", nil
	}
	return getenv(cfg.Serve.TokenEnv), nil
}
