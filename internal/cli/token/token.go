// Package token implements `shiplog token hash`: the SHA-256 of a token,
// for serve.tokens, read from stdin so that the token is never on a
// command line (shell history, the process list).
package token

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/access"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

// NewCmdToken returns the token command and its verbs.
func NewCmdToken(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Prepare tokens for serve.tokens",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdHash(f, nil))
	return cmd
}

// HashOptions are the inputs of `shiplog token hash`.
type HashOptions struct {
	IO *iostreams.IOStreams
}

// NewCmdHash returns `shiplog token hash`. runF replaces the run function
// in tests of flag parsing.
func NewCmdHash(f *cmdutil.Factory, runF func(*HashOptions) error) *cobra.Command {
	opts := &HashOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "hash",
		Short: "Print the SHA-256 of a token read on stdin, for serve.tokens",
		Long: `Read one token on stdin (its first line; a trailing newline is not part of
it) and print the lower-case hex SHA-256 that serve.tokens lists as sha256.
The token itself is never an argument, so it stays out of shell history and
the process list.`,
		Example: `  openssl rand -hex 32 > grafana.token
  shiplog token hash < grafana.token
  printf %s "$GRAFANA_TOKEN" | shiplog token hash`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return RunHash(opts)
		},
	}
}

// RunHash reads the token and prints its hash.
func RunHash(opts *HashOptions) error {
	line, err := bufio.NewReader(io.LimitReader(opts.IO.In, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("token hash: read stdin: %w", err)
	}
	tok := strings.TrimRight(line, "\r\n")
	if tok == "" {
		return &cmdutil.FlagError{Err: errors.New("token hash: stdin holds no token (pipe it in: shiplog token hash < FILE)")}
	}
	if strings.TrimSpace(tok) != tok {
		fmt.Fprintln(opts.IO.ErrOut, "token hash: note: the token starts or ends with a space, which is part of it")
	}
	_, err = fmt.Fprintln(opts.IO.Out, access.HashHex(tok))
	return err
}
