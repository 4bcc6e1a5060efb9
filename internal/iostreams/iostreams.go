// Package iostreams carries the standard streams a command writes to, so that
// tests can swap them for buffers and say whether output is a terminal.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// IOStreams are a command's input, data output and message output.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data: tables, JSON, CSV
	ErrOut io.Writer // progress and messages

	outTTY bool
	errTTY bool
	// width overrides the terminal's width when set (tests).
	width int
}

// DefaultWidth is the width assumed for a terminal whose size cannot be
// read.
const DefaultWidth = 80

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		outTTY: term.IsTerminal(int(os.Stdout.Fd())),
		errTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// Test returns streams backed by buffers: input, output, messages.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdoutTTY reports whether data output goes to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether messages go to a terminal (progress bars are
// drawn only then).
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// TerminalWidth is the width of the terminal data goes to, in columns: the
// terminal's own size, else $COLUMNS, else DefaultWidth.
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	if f, ok := s.Out.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if w, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && w > 0 {
		return w
	}
	return DefaultWidth
}

// MessageWidth is the width to wrap messages on stderr at: the terminal's
// (TerminalWidth) when stderr is one, else 0 (not wrapped).
func (s *IOStreams) MessageWidth() int {
	if !s.errTTY {
		return 0
	}
	return s.TerminalWidth()
}

// SetTerminalWidth overrides the terminal's width (tests).
func (s *IOStreams) SetTerminalWidth(w int) { s.width = w }

// SetStdoutTTY overrides terminal detection for data output (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.outTTY = v }

// SetStderrTTY overrides terminal detection for messages (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.errTTY = v }
