// Package cmdutil holds what every command shares: the factory of
// dependencies and the typed errors that main maps to exit codes.
package cmdutil

import (
	"errors"
	"fmt"

	"github.com/shiplog/shiplog/internal/suggest"
)

// Exit codes. DESIGN.md fixes 0, 1 and 2; gate adds 3 for NO-GO.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
	ExitNoGo  = 3
)

// FlagError is a usage mistake: main prints it with the usage hint and exits 2.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf returns a FlagError with a formatted message.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ExitCodeError ends the command with Code after printing nothing more: the
// command has already said what it had to (gate NO-GO, audit findings).
type ExitCodeError struct {
	Code int
	Msg  string
}

func (e *ExitCodeError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ErrSilent ends the command with exit 1 and no further message.
var ErrSilent = errors.New("silent")

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		return ExitUsage
	}
	// A name nobody has (a typo'd team, metric …) is a usage mistake too.
	var ue *suggest.UnknownError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		return ec.Code
	}
	return ExitError
}
