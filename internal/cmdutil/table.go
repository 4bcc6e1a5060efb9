package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
)

// TableFlags are the output flags of every command that prints rows:
// --format, --wide and --columns.
type TableFlags struct {
	Format  string
	Wide    bool
	Columns []string
}

// Register adds the flags to cmd. formats are the accepted --format values
// (output.Formats when none).
func (tf *TableFlags) Register(cmd *cobra.Command, formats ...string) {
	if len(formats) == 0 {
		formats = output.Formats
	}
	cmd.Flags().StringVar(&tf.Format, "format", "table", "output format: "+strings.Join(formats, ", ")+" (table is tab-separated when piped)")
	cmd.Flags().BoolVar(&tf.Wide, "wide", false, "on a terminal, show every column, unfitted")
	cmd.Flags().StringSliceVar(&tf.Columns, "columns", nil, "print only these `COLUMNS`, in this order (names as in csv/json output; comma-separated)")
}

// Check validates --format against formats (output.Formats when none).
func (tf *TableFlags) Check(formats ...string) error {
	if err := output.CheckFormat(tf.Format, formats...); err != nil {
		return &FlagError{Err: err}
	}
	if tf.Wide && len(tf.Columns) > 0 {
		return FlagErrorf("choose one of --wide and --columns")
	}
	return nil
}

// Options returns how to print to ios: fitted to the terminal's width, with
// hints on stderr when it is a terminal too.
func (tf *TableFlags) Options(ios *iostreams.IOStreams, extra map[string]any) output.Options {
	o := output.Options{
		Format:  tf.Format,
		TTY:     ios.IsStdoutTTY(),
		Wide:    tf.Wide,
		Columns: tf.Columns,
		Extra:   extra,
	}
	if o.TTY {
		o.Width = ios.TerminalWidth()
		if ios.IsStderrTTY() {
			o.Hints = ios.ErrOut
		}
	}
	return o
}

// Print prints t to ios's data output. extra are the JSON document's
// members beside columns and rows.
func (tf *TableFlags) Print(ios *iostreams.IOStreams, t *output.Table, extra map[string]any) error {
	return output.Print(ios.Out, t, tf.Options(ios, extra))
}
