package root

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

// TestHelpFitsTheTerminal renders the help of every command at 80 columns
// and at 100: no line is wider than the terminal, the flags' usages
// wrapped in their column.
func TestHelpFitsTheTerminal(t *testing.T) {
	for _, width := range []int{80, 100} {
		ios, _, out, _ := iostreams.Test()
		ios.SetTerminalWidth(width)
		root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios})
		var walk func(c *cobra.Command)
		n := 0
		walk = func(c *cobra.Command) {
			out.Reset()
			c.SetOut(out)
			if err := c.Help(); err != nil {
				t.Fatalf("%s: %v", c.CommandPath(), err)
			}
			n++
			for i, l := range strings.Split(out.String(), "\n") {
				if len([]rune(l)) > width {
					t.Errorf("%s --help, line %d, %d columns (of %d):\n%s", c.CommandPath(), i+1, len([]rune(l)), width, l)
				}
			}
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					walk(s)
				}
			}
		}
		walk(root)
		if n < 30 {
			t.Errorf("%d commands' help read, want every command's (30 or more)", n)
		}
	}
}
