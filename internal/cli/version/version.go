// Package version implements `shiplog version` and the root command's
// --version flag: which build this is and which DuckDB it links.
package version

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/version"
)

// Options are the inputs of `shiplog version`.
type Options struct {
	IO     *iostreams.IOStreams
	Format string
	// Info returns the build information (version.Get; tests replace it).
	Info func(context.Context) (version.Info, error)
}

// NewCmdVersion returns the version command. runF replaces the run function
// in tests of flag parsing.
func NewCmdVersion(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Info: version.Get}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print shiplog's version, commit and DuckDB version",
		Long: `Print the build's version (a release tag or ` + "`git describe`" + ` name), the commit it
was built from and whether that tree had uncommitted changes, the Go
toolchain, and the DuckDB library and duckdb-go driver linked in. The DuckDB
version is asked of the library itself. --format json prints one object for
machines; ` + "`shiplog --version`" + ` prints the one-line form.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := output.CheckFormat(opts.Format, "text", "json"); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

// Run prints the build information.
func Run(ctx context.Context, opts *Options) error {
	info, err := opts.Info(ctx)
	if err != nil {
		// The build fields are known even when DuckDB could not be asked;
		// print them and say what is missing.
		fmt.Fprintf(opts.IO.ErrOut, "shiplog: %v\n", err)
	}
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(info); err != nil {
			return err
		}
	} else {
		writeText(opts.IO.Out, info)
	}
	if err != nil {
		return cmdutil.ErrSilent
	}
	return nil
}

func writeText(w io.Writer, i version.Info) {
	commit := i.Commit
	if i.Dirty {
		commit += " (modified)"
	}
	duck := i.DuckDB
	if duck == "" {
		duck = "unknown"
	} else if i.DuckDBSource != "" {
		duck += " (" + i.DuckDBSource + ")"
	}
	driver := i.Driver
	if driver == "" {
		driver = "unknown"
	}
	fmt.Fprintf(w, "shiplog    %s\n", i.Version)
	fmt.Fprintf(w, "commit     %s\n", commit)
	fmt.Fprintf(w, "go         %s %s\n", i.Go, i.Platform)
	fmt.Fprintf(w, "duckdb     %s\n", duck)
	fmt.Fprintf(w, "duckdb-go  %s\n", driver)
}

// PrintShort prints the one-line form for `shiplog --version`.
func PrintShort(ctx context.Context, w, errw io.Writer) error {
	info, err := version.Get(ctx)
	fmt.Fprintln(w, info.String())
	if err != nil {
		fmt.Fprintf(errw, "shiplog: %v\n", err)
		return cmdutil.ErrSilent
	}
	return nil
}
