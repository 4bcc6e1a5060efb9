package cmdutil

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Factory holds every dependency a command needs, so that tests can replace
// each one. Commands receive it from the root and read the global flags
// through it.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Now is the clock. Tests fix it.
	Now func() time.Time
	// Getenv reads the environment (tokens come only from here).
	Getenv func(string) string

	// DBPath and ConfigPath are the values of --db and --config (or their
	// environment variables); set by the root command before any verb runs.
	DBPath     string
	ConfigPath string

	cfg *config.Config
}

// New returns the factory for a real process.
func New() *Factory {
	return &Factory{
		IOStreams: iostreams.System(),
		Now:       time.Now,
		Getenv:    os.Getenv,
	}
}

// Config loads shiplog.yaml once (or defaults when there is none).
func (f *Factory) Config() (*config.Config, error) {
	if f.cfg != nil {
		return f.cfg, nil
	}
	cfg, err := config.Load(f.ConfigPath)
	if err != nil {
		return nil, err
	}
	f.cfg = cfg
	return cfg, nil
}

// SetConfig replaces the configuration (tests).
func (f *Factory) SetConfig(cfg *config.Config) { f.cfg = cfg }

// Warehouse opens the warehouse read-write, creating and migrating it, and
// marks the ingest runs a killed process left running as interrupted
// (ingest.MarkInterrupted), saying so on stderr.
func (f *Factory) Warehouse(ctx context.Context) (*warehouse.DB, error) {
	db, err := warehouse.Open(ctx, f.dbPath(), warehouse.Options{})
	if err != nil {
		return nil, err
	}
	now, w := time.Now, io.Discard
	if f.Now != nil {
		now = f.Now
	}
	if f.IOStreams != nil {
		w = f.IOStreams.ErrOut
	}
	if err := ReportInterrupted(ctx, db, now(), w); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ReportInterrupted marks the runs left running as interrupted and prints
// one line for each to w. Every process that opens the warehouse for
// writing calls it once, right after opening.
func ReportInterrupted(ctx context.Context, db *warehouse.DB, now time.Time, w io.Writer) error {
	runs, err := ingest.MarkInterrupted(ctx, db, now)
	if err != nil {
		return err
	}
	for _, r := range runs {
		fmt.Fprintf(w, "warehouse: ingest run %d (%s %s) was left running by a process that stopped; marked interrupted\n", r.ID, r.Source, r.Target)
	}
	return nil
}

// WarehouseReadOnly opens the warehouse so that nothing can change it.
func (f *Factory) WarehouseReadOnly(ctx context.Context) (*warehouse.DB, error) {
	return warehouse.Open(ctx, f.dbPath(), warehouse.Options{ReadOnly: true})
}

// WarehouseWith opens the warehouse with opts (`shiplog query` opens it
// sandboxed, `shiplog serve` sealed around its loaders' folders).
func (f *Factory) WarehouseWith(ctx context.Context, opts warehouse.Options) (*warehouse.DB, error) {
	return warehouse.Open(ctx, f.dbPath(), opts)
}

func (f *Factory) dbPath() string {
	if f.DBPath != "" {
		return f.DBPath
	}
	return warehouse.DefaultPath
}
