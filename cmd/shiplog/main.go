// Command shiplog is a release analytics and DORA metrics warehouse.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/shiplog/shiplog/internal/cli/root"
	"github.com/shiplog/shiplog/internal/cmdutil"
)

// isCobraUsageError recognises the usage errors cobra itself returns as
// plain errors (unknown command, wrong number of arguments), so that they
// exit 2 like flag errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command ", "accepts ", "requires at least ", "requires at most ", "invalid argument ", "unknown shorthand flag", "unknown flag"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f := cmdutil.New()
	cmd := root.NewCmdRoot(f)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	if isCobraUsageError(err) {
		err = &cmdutil.FlagError{Err: err}
	}
	var ec *cmdutil.ExitCodeError
	switch {
	case errors.Is(err, cmdutil.ErrSilent), errors.As(err, &ec) && ec.Msg == "":
	case errors.As(err, new(*cmdutil.FlagError)):
		fmt.Fprintf(f.IOStreams.ErrOut, "shiplog: %v\nRun '%s --help' for usage.\n", err, commandPath(cmd, os.Args[1:]))
	default:
		fmt.Fprintf(f.IOStreams.ErrOut, "shiplog: %v\n", err)
	}
	return cmdutil.ExitCode(err)
}
