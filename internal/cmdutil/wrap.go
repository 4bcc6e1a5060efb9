package cmdutil

import "strings"

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
