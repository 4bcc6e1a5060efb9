// Package run implements `shiplog demo`: load the embedded demo
// organisation into a fresh warehouse, transform it, record a few release
// gate decisions, print the headline metrics and write every report.
package run

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shiplog/shiplog/gate"
	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/cli/report"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/reports"
	"github.com/shiplog/shiplog/transform"
)

// Options are the inputs of a demo run.
type Options struct {
	IO  *iostreams.IOStreams
	Now func() time.Time
	// Dir receives the warehouse, the data files, the configuration and the
	// reports.
	Dir string
	// NoReports skips writing the reports (tests of the load alone).
	NoReports bool
}

// Paths says where a demo run put everything.
type Paths struct {
	Dir, Warehouse, Config, Data, Reports, Index string
}

// PathsFor returns the layout of a demo folder.
func PathsFor(dir string) Paths {
	return Paths{
		Dir:       dir,
		Warehouse: filepath.Join(dir, "shiplog.duckdb"),
		Config:    filepath.Join(dir, "shiplog.yaml"),
		Data:      filepath.Join(dir, "data"),
		Reports:   filepath.Join(dir, "reports"),
	}
}

// Config is the configuration the demo runs with: the defaults plus the
// freezes the demo organisation's calendar plants releases into.
func Config() *config.Config {
	cfg := config.Default()
	cfg.Calendar.Freezes = demo.CalendarFreezes(demo.DefaultOptions())
	return cfg
}

// Period is the window the demo's reports cover: the last full quarter of
// the demo history.
func Period() (from, to time.Time) {
	end := demo.DefaultEnd
	to = time.Date(end.Year(), end.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	return to.AddDate(0, -3, 0), to
}

// Run does the whole demo. The warehouse in Dir is rebuilt from scratch each
// time, so a demo run always shows the same numbers.
func Run(ctx context.Context, opts *Options) (Paths, error) {
	p := PathsFor(opts.Dir)
	errOut := opts.IO.ErrOut
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return p, err
	}
	for _, f := range []string{p.Warehouse, p.Warehouse + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return p, fmt.Errorf("remove the previous demo warehouse: %w", err)
		}
	}
	cfg := Config()
	if err := writeConfig(p.Config, cfg); err != nil {
		return p, err
	}

	fmt.Fprintf(errOut, "demo: writing the embedded organisation to %s\n", p.Data)
	paths, err := demo.ExtractEmbedded(p.Data)
	if err != nil {
		return p, err
	}
	db, err := warehouse.Open(ctx, p.Warehouse, warehouse.Options{})
	if err != nil {
		return p, err
	}
	defer db.Close()

	fmt.Fprintf(errOut, "demo: loading %d files into %s\n", len(paths), p.Warehouse)
	res, err := file.Load(ctx, db, paths, file.Options{Source: "demo", Progress: errOut, Now: opts.Now})
	if err != nil {
		return p, err
	}
	fmt.Fprintf(errOut, "demo: loaded %d records\n", res.Written)

	fmt.Fprintln(errOut, "demo: transforming")
	progress := &format.LineWrapper{W: errOut, Width: opts.IO.MessageWidth()}
	err = transform.Run(ctx, db, cfg, transform.Options{Progress: progress})
	progress.Flush()
	if err != nil {
		return p, err
	}
	if err := RecordGates(ctx, db, cfg, errOut); err != nil {
		return p, err
	}

	from, to := Period()
	t, err := metrics.Compute(ctx, db, cfg, metrics.Filter{From: from, To: to, Level: "team"})
	if err != nil {
		return p, err
	}
	metrics.Describe(t)
	fmt.Fprintf(opts.IO.Out, "DORA metrics per team, %s to %s:\n\n", from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"))
	// Fitted to the terminal, or to 80 columns when piped (a log, a CI page).
	width := iostreams.DefaultWidth
	if opts.IO.IsStdoutTTY() {
		width = opts.IO.TerminalWidth()
	}
	if err := output.Print(opts.IO.Out, t, output.Options{TTY: true, Width: width}); err != nil {
		return p, err
	}

	if !opts.NoReports {
		fmt.Fprintf(errOut, "demo: writing reports to %s\n", p.Reports)
		data := report.WarehouseData(db, cfg, opts.Now)
		index, err := reports.WriteAll(ctx, data, reports.Options{Out: p.Reports, From: from, To: to, Now: opts.Now(), Progress: errOut, ProgressWidth: opts.IO.MessageWidth()})
		if err != nil {
			return p, err
		}
		p.Index = index
	}

	fmt.Fprintf(errOut, "\nDone. Everything is in %s:\n", p.Dir)
	fmt.Fprintf(errOut, "  warehouse      %s\n", p.Warehouse)
	fmt.Fprintf(errOut, "  configuration  %s\n", p.Config)
	fmt.Fprintf(errOut, "  input data     %s\n", p.Data)
	if p.Index != "" {
		fmt.Fprintf(errOut, "  reports        %s (open it in a browser)\n", p.Index)
	}
	fmt.Fprintf(errOut, "\nTry next:\n")
	fmt.Fprintf(errOut, "  export SHIPLOG_DB=%s\n", p.Warehouse)
	fmt.Fprintf(errOut, "  export SHIPLOG_CONFIG=%s\n", p.Config)
	for _, c := range []string{
		"metrics --by month --level team",
		"metrics --team payments --wide",
		"explain change-failure-rate --team payments",
		"audit --from 2026-05-01",
		"query --list",
		"calendar --conflicts",
		"drift",
	} {
		fmt.Fprintf(errOut, "  %s %s\n", selfName(), c)
	}
	return p, nil
}

// selfName is how the user ran shiplog: "bin/shiplog" after `make demo`,
// "shiplog" when it is on the PATH.
func selfName() string {
	if a := os.Args[0]; strings.ContainsRune(a, filepath.Separator) && !strings.Contains(a, ".test") && !strings.Contains(a, os.TempDir()) {
		return a
	}
	return "shiplog"
}

// RecordGates asks the release gate about the last production release of
// a few services, and about the releases that went out under a rejected
// change request, as each was about to go out (at its start) and under its
// change request, as a pipeline would have: it records what the gate said,
// and one NO-GO that a release manager overrode with a reason. Together with the
// deployments that followed, they give the gate-override control something
// to find.
func RecordGates(ctx context.Context, db *warehouse.DB, cfg *config.Config, errOut io.Writer) error {
	rows, err := db.QueryContext(ctx, `
		SELECT service, version, effective_started_at, coalesce(change_request, '') FROM (
			SELECT * FROM (
				SELECT service, version, effective_started_at, finished_at, change_request,
				       row_number() OVER (PARTITION BY service ORDER BY finished_at DESC) AS n
				FROM fct_deployments
				WHERE is_production AND status = 'success' AND version IS NOT NULL)
			WHERE n = 1 ORDER BY service LIMIT 4)
		UNION ALL
		SELECT service, version, effective_started_at, change_request FROM fct_deployments
		WHERE is_production AND status = 'success' AND version IS NOT NULL AND approval_state = 'rejected'
		ORDER BY 1, 3`)
	if err != nil {
		return err
	}
	type release struct {
		service, version, changeRequest string
		at                              time.Time
	}
	var rels []release
	for rows.Next() {
		var r release
		var at sql.NullTime
		if err := rows.Scan(&r.service, &r.version, &at, &r.changeRequest); err != nil {
			rows.Close()
			return err
		}
		r.at = at.Time
		rels = append(rels, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	overridden := false
	for _, r := range rels {
		opts := gate.Options{Service: r.service, Version: r.version, ChangeRequest: r.changeRequest,
			Actor: "release-bot", Now: r.at}
		d, err := gate.Evaluate(ctx, db, cfg, opts)
		if err != nil {
			return err
		}
		if d.Decision == gate.NoGo && !overridden {
			opts.OverrideReason = "accepted risk: the failing suite is a known flaky test (demo)"
			opts.Actor = "release-manager"
			if d, err = gate.Evaluate(ctx, db, cfg, opts); err != nil {
				return err
			}
			overridden = true
		}
		if err := gate.Record(ctx, db, d); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "demo: gate for %s %s: %s\n", r.service, r.version, d.Decision)
	}
	return nil
}

func writeConfig(path string, cfg *config.Config) error {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	head := "# shiplog configuration used by `shiplog demo` (defaults plus the demo's freezes).\n" +
		"# Use it with: shiplog --config " + path + " ...\n"
	return os.WriteFile(path, append([]byte(head), data...), 0o644)
}

// NewRunE returns the run function attached to `shiplog demo`.
func NewRunE(f *cmdutil.Factory, dir *string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := Run(ctx, &Options{IO: f.IOStreams, Now: f.Now, Dir: *dir})
		return err
	}
}
