package format

import (
	"bytes"
	"io"
	"strings"
)

// WrapList writes lead and the items after it, comma-separated, wrapped so
// that no line is longer than width (help texts fit an 80-column
// terminal). An item longer than a line gets a line of its own.
func WrapList(lead string, items []string, width int) string {
	var b strings.Builder
	line := lead
	for i, it := range items {
		word := " " + it
		if i < len(items)-1 {
			word += ","
		}
		if len(line)+len(word) > width && line != "" {
			b.WriteString(line + "\n")
			line = strings.TrimPrefix(word, " ")
			continue
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

// Wrap breaks text at spaces so that, printed from column indent of a
// terminal width columns wide, no line passes the edge; the lines after
// the first start with indent spaces. A word longer than a line stays
// whole. width 0 (not a terminal), or a column too narrow for words
// (fewer than 20 columns left), leaves text as it is.
func Wrap(text string, width, indent int) string {
	room := width - indent
	if width <= 0 || room < 20 {
		return text
	}
	var b strings.Builder
	n := 0 // columns used on the current line
	for i, word := range strings.Fields(text) {
		w := len([]rune(word))
		switch {
		case i == 0:
		case n+1+w > room:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += w
	}
	return b.String()
}

// LineWrapper writes lines of text to W, each line longer than Width
// broken at spaces with the lines after its first indented two spaces
// (Wrap). Width 0 writes every line as it is. A partial line waits for its
// newline (or Flush).
type LineWrapper struct {
	W     io.Writer
	Width int
	buf   []byte
}

func (l *LineWrapper) Write(p []byte) (int, error) {
	if l.Width <= 0 {
		return l.W.Write(p)
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := l.line(string(l.buf[:i])); err != nil {
			return len(p), err
		}
		l.buf = l.buf[i+1:]
	}
}

// Flush writes a partial line left without its newline.
func (l *LineWrapper) Flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(l.W, string(l.buf))
	l.buf = nil
	return err
}

func (l *LineWrapper) line(s string) error {
	if len([]rune(s)) > l.Width {
		lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
		// the first line is measured from two columns further in than it
		// starts, which costs it at most two columns
		s = lead + Wrap(strings.TrimLeft(s, " "), l.Width, len(lead)+2)
	}
	_, err := io.WriteString(l.W, s+"\n")
	return err
}
