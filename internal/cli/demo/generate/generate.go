// Package generate implements `shiplog demo generate`: write a generated
// organisation as canonical JSON Lines, at any scale, for benchmarks and
// experiments.
package generate

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/iostreams"
)

// Options are the inputs of a generate run.
type Options struct {
	IO  *iostreams.IOStreams
	Now func() time.Time

	Out  string
	Demo demo.Options
	End  string
}

// NewCmdGenerate returns the generate command. runF replaces the run
// function in tests of flag parsing.
func NewCmdGenerate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: f.Now, Demo: demo.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "generate --out DIR",
		Short: "Write a generated organisation as canonical JSON Lines",
		Long: `Write a generated organisation into DIR, one <kind>.jsonl file per canonical
kind, ready for "shiplog ingest file". The same options always give the same
files. --scale multiplies teams and services (and so the volume of history)
while keeping each service's rates realistic: --scale 40 gives about 480
services. Progress goes to stderr.`,
		Example: `  shiplog demo generate --out demo-data
  shiplog demo generate --out big --scale 40 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return cmdutil.FlagErrorf("--out is required")
			}
			if opts.End != "" {
				t, err := parseEnd(opts.End)
				if err != nil {
					return cmdutil.FlagErrorf("--end: %v", err)
				}
				opts.Demo.End = t
			}
			if opts.Demo.Scale <= 0 {
				return cmdutil.FlagErrorf("--scale must be greater than 0, got %v", opts.Demo.Scale)
			}
			if err := opts.Demo.Validate(); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", "", "folder to write the dataset into (created if missing)")
	fl.Int64Var(&opts.Demo.Seed, "seed", opts.Demo.Seed, "random seed")
	fl.IntVar(&opts.Demo.Teams, "teams", opts.Demo.Teams, "number of teams before scaling")
	fl.IntVar(&opts.Demo.Services, "services", opts.Demo.Services, "number of services before scaling")
	fl.IntVar(&opts.Demo.Months, "months", opts.Demo.Months, "months of history")
	fl.Float64Var(&opts.Demo.Scale, "scale", opts.Demo.Scale, "multiply teams, services and history volume")
	fl.StringVar(&opts.End, "end", "", "last instant of the history, RFC 3339 or YYYY-MM-DD (default "+demo.DefaultEnd.Format(time.RFC3339)+")")
	return cmd
}

// parseEnd reads an RFC 3339 time or a date (meaning the end of that day, UTC).
func parseEnd(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return d.Add(24*time.Hour - time.Second), nil
}

// Run generates the dataset, reporting progress about every tenth of the
// services, then a summary.
func Run(ctx context.Context, opts *Options) error {
	w := opts.IO.ErrOut
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	d := opts.Demo
	lastTenth := -1
	d.Progress = func(done, total int) {
		if tenth := done * 10 / total; tenth != lastTenth {
			lastTenth = tenth
			fmt.Fprintf(w, "generating: %d/%d services\n", done, total)
		}
	}
	counts, err := demo.Write(opts.Out, d)
	if err != nil {
		return err
	}
	summary(w, counts, opts.Out, now().Sub(start))
	return nil
}

func summary(w io.Writer, counts map[string]int, dir string, took time.Duration) {
	kinds := make([]string, 0, len(counts))
	total := 0
	for k, n := range counts {
		kinds = append(kinds, k)
		total += n
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	fmt.Fprintf(w, "wrote %d rows to %s in %s: %s\n", total, dir, took.Round(time.Millisecond), strings.Join(parts, ", "))
}
