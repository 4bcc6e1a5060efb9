// Package file implements `shiplog ingest file`: canonical JSON Lines and
// CSV files into the warehouse.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	loader "github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options are the inputs of `shiplog ingest file`.
type Options struct {
	IO        *iostreams.IOStreams
	Warehouse func(context.Context) (*warehouse.DB, error)
	Now       func() time.Time

	Paths       []string
	Kind        string
	SkipInvalid bool
	Source      string
}

// NewCmdFile returns the command. runF replaces the run function in tests of
// flag parsing.
func NewCmdFile(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Warehouse: f.Warehouse, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "file PATH...",
		Short: "Load canonical JSON Lines or CSV files",
		Long: `Load canonical records from JSON Lines (.jsonl, .ndjson, .json: one object
per line, each with a "kind") or CSV (.csv: one kind per file, header row;
the kind comes from --kind or the file name, deployments.csv). Gzip-compressed
files (.gz) are read as they are. A single - reads JSON Lines from standard
input.

All files of one call are one batch. A bad record (malformed JSON, a missing
required field, a time without an offset, an unknown kind or enum value, a
wrong type) fails the whole batch with an error naming the file, line (CSV:
row) and field, and nothing is written. With --skip-invalid the good records
are written and each bad one goes to the rejects table with its reason.

Records replace earlier ones with the same source and natural key, so loading
the same files twice changes nothing; within a batch the last record of a key
wins (files in the order given, lines in file order).

` + format.WrapList("Kinds:", canonical.Names(), 80) + `.
The format is described in docs/data-model.md.`,
		Example: `  shiplog ingest file events.jsonl
  shiplog ingest file deployments.csv incidents.csv.gz
  shiplog ingest file --kind change export.csv
  shiplog ingest file --skip-invalid --source ci events.ndjson
  some-exporter | shiplog ingest file -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.Kind != "" {
				if _, ok := canonical.LookupTable(opts.Kind); !ok {
					return cmdutil.FlagErrorf("unknown --kind %q (want one of %s)", opts.Kind, strings.Join(canonical.Names(), ", "))
				}
			}
			for _, p := range args {
				if p == "-" && len(args) > 1 {
					return cmdutil.FlagErrorf("read standard input (-) alone, not with files")
				}
			}
			if strings.TrimSpace(opts.Source) == "" {
				return cmdutil.FlagErrorf("--source must not be empty")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Kind, "kind", "", "kind of the CSV files (default: from the file name), and of JSON records without one")
	cmd.Flags().BoolVar(&opts.SkipInvalid, "skip-invalid", false, "write the good records and put bad ones in the rejects table")
	cmd.Flags().StringVar(&opts.Source, "source", "file", "value of the source column of the rows written")
	return cmd
}

// Run loads the files and prints what was written to stderr.
func Run(ctx context.Context, opts *Options) error {
	db, err := opts.Warehouse(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var progress io.Writer = opts.IO.ErrOut
	if opts.IO.IsStderrTTY() {
		sp := newSpinner(opts.IO.ErrOut)
		defer sp.stop()
		progress = sp
	}
	lopts := loader.Options{
		Kind:        opts.Kind,
		SkipInvalid: opts.SkipInvalid,
		Source:      opts.Source,
		Progress:    progress,
		Now:         opts.Now,
	}
	if len(opts.Paths) == 1 && opts.Paths[0] == "-" {
		_, err = loader.LoadReader(ctx, db, "stdin", opts.IO.In, lopts)
	} else {
		_, err = loader.Load(ctx, db, opts.Paths, lopts)
	}
	var ue *loader.UsageError
	if errors.As(err, &ue) {
		return &cmdutil.FlagError{Err: err}
	}
	return err
}

// spinner shows a progress bar spinner on a terminal while DuckDB reads,
// and prints the loader's lines above it.
type spinner struct {
	mu   sync.Mutex
	w    io.Writer
	bar  *progressbar.ProgressBar
	done chan struct{}
	wg   sync.WaitGroup
}

func newSpinner(w io.Writer) *spinner {
	s := &spinner{w: w, done: make(chan struct{})}
	s.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("loading"),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionShowElapsedTimeOnFinish(),
	)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.mu.Lock()
				_ = s.bar.Add64(0)
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// Write prints a line of the loader above the spinner.
func (s *spinner) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.bar.Clear()
	fmt.Fprint(s.w, string(p))
	return len(p), nil
}

func (s *spinner) stop() {
	close(s.done)
	s.wg.Wait()
	_ = s.bar.Finish()
}
