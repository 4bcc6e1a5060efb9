// Command shiplog is a release analytics and DORA metrics warehouse.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shiplog/shiplog/internal/cli/root"
	"github.com/shiplog/shiplog/internal/cmdutil"
)

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
