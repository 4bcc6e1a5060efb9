// Package initcmd implements `shiplog init`: write a commented shiplog.yaml
// holding every setting with its default and examples of each source.
package initcmd

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
)

// Template is the file `shiplog init` writes. Its uncommented values are
// the defaults of config.Default; every key of the configuration appears in
// it, commented out where it has no default.
//
//go:embed shiplog.yaml
var Template string

// Options are the inputs of `shiplog init`.
type Options struct {
	IO    *iostreams.IOStreams
	Path  string
	Force bool
}

// NewCmdInit returns the command. runF replaces the run function in tests of
// flag parsing.
func NewCmdInit(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "init [--path FILE] [--force]",
		Short: "Write a commented shiplog.yaml",
		Long: `Write a configuration file with every setting at its default, a short
comment on each, and commented-out examples of the sources (files, git,
GitHub, Jira), exemptions, freezes, release windows and schedules.

The file is written to --path (default: --config or SHIPLOG_CONFIG when set,
else shiplog.yaml). An existing file is kept unless --force is given.`,
		Example: `  shiplog init
  shiplog init --path deploy/shiplog.yaml --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("path") && f.ConfigPath != "" {
				opts.Path = f.ConfigPath
			}
			if opts.Path == "" {
				return cmdutil.FlagErrorf("--path must not be empty")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Path, "path", config.DefaultPath, "file to write")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing file")
	return cmd
}

// Run writes the template. The file appears whole or not at all: it is
// written beside the target and renamed over it.
func Run(_ context.Context, opts *Options) error {
	if !opts.Force {
		if _, err := os.Lstat(opts.Path); err == nil {
			return fmt.Errorf("%s already exists; use --force to replace it", opts.Path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	dir := filepath.Dir(opts.Path)
	tmp, err := os.CreateTemp(dir, ".shiplog-init-*.yaml")
	if err != nil {
		return fmt.Errorf("write %s: %w", opts.Path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(Template); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", opts.Path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", opts.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", opts.Path, err)
	}
	if !opts.Force {
		// Link fails if the file appeared meanwhile; rename would replace it.
		if err := os.Link(tmp.Name(), opts.Path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists; use --force to replace it", opts.Path)
			}
			if err := os.Rename(tmp.Name(), opts.Path); err != nil {
				return fmt.Errorf("write %s: %w", opts.Path, err)
			}
		}
	} else if err := os.Rename(tmp.Name(), opts.Path); err != nil {
		return fmt.Errorf("write %s: %w", opts.Path, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s: every setting at its default.\nUncomment the sources you use, then run `shiplog ingest --all`.\n", opts.Path)
	return nil
}
