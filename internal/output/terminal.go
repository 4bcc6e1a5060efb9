package output

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rivo/uniseg"

	"github.com/shiplog/shiplog/internal/format"
)

// gap is the space between two columns on a terminal.
const gap = 2

// comfortText is the width a long text column (a title, a reason) is cut
// to before any column is left out; minText the narrowest a lone column is
// cut to.
const (
	comfortText = 24
	minText     = 8
)

// cellCol is one column as a terminal shows it.
type cellCol struct {
	name, label string
	numeric     bool
	text        bool // may be truncated
	main        []string
	beside      []string // the Beside column's value per row, "" when none
	mainW       int
	besideW     int
	width       int
}

func (c *cellCol) cellWidth() int {
	if c.besideW > 0 {
		return c.mainW + 1 + c.besideW
	}
	return c.mainW
}

// writeAligned prints t for people: human units, aligned, fitted to the
// width when o asks for the default columns.
func writeAligned(w io.Writer, t *Table, o Options) error {
	names := t.Columns
	if !o.Wide && len(o.Columns) == 0 && len(t.Primary) > 0 {
		names = nil
		for _, c := range t.Primary {
			if t.Index(c) >= 0 {
				names = append(names, c)
			}
		}
	}
	shown := make(map[string]bool, len(names))
	for _, n := range names {
		shown[n] = true
	}
	cols := make([]*cellCol, 0, len(names))
	for _, n := range names {
		cols = append(cols, buildCol(t, n, shown))
	}

	var hidden []string
	if o.Width > 0 && !o.Wide && len(o.Columns) == 0 {
		cols, hidden = fit(cols, o.Width)
	}

	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(strings.Repeat(" ", gap))
		}
		label := truncate(c.label, c.width)
		if c.numeric && c.besideW == 0 {
			b.WriteString(padLeft(label, c.width))
		} else {
			b.WriteString(padRight(label, c.width))
		}
	}
	if err := writeLine(w, b.String()); err != nil {
		return err
	}
	for r := range t.Rows {
		b.Reset()
		for i, c := range cols {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", gap))
			}
			cell := c.main[r]
			if c.numeric {
				cell = padLeft(cell, c.mainW)
			}
			if c.besideW > 0 {
				cell = padRight(cell, c.mainW) + " " + padRight(c.beside[r], c.besideW)
			}
			cell = truncate(cell, c.width)
			if c.numeric {
				b.WriteString(padLeft(cell, c.width))
			} else {
				b.WriteString(padRight(cell, c.width))
			}
		}
		if err := writeLine(w, b.String()); err != nil {
			return err
		}
	}
	if o.Footer != "" {
		if _, err := io.WriteString(w, o.Footer); err != nil {
			return err
		}
	}
	if o.Hints != nil {
		writeUnknown(o.Hints, t, cols)
	}
	if len(hidden) > 0 && o.Hints != nil {
		fmt.Fprintln(o.Hints, format.Wrap(fmt.Sprintf("%d more %s to fit %d characters: %s (--wide shows them, --columns picks)",
			len(hidden), plural(len(hidden), "column", "columns"), o.Width, strings.Join(hidden, ", ")), o.Width, 0))
	}
	return nil
}

// writeUnknown says, for every reason that made a shown value unknown, the
// rows it applies to by their first column: "unknown (no incident source):
// web, search".
func writeUnknown(w io.Writer, t *Table, cols []*cellCol) {
	var reasons []string
	rows := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, c := range cols {
		u, ok := t.Unknown[c.name]
		if !ok {
			continue
		}
		i, ui := t.Index(c.name), t.Index(u)
		if i < 0 || ui < 0 {
			continue
		}
		for _, row := range t.Rows {
			if row[i] != nil || row[ui] == nil {
				continue
			}
			reason, key := Text(row[ui]), Text(row[0])
			if _, ok := rows[reason]; !ok {
				reasons = append(reasons, reason)
			}
			if !seen[[2]string{reason, key}] {
				seen[[2]string{reason, key}] = true
				rows[reason] = append(rows[reason], key)
			}
		}
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "unknown (%s): %s\n", r, strings.Join(rows[r], ", "))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func writeLine(w io.Writer, s string) error {
	_, err := io.WriteString(w, strings.TrimRight(s, " ")+"\n")
	return err
}

// buildCol renders one column's cells. A time column whose values are all
// midnight UTC reads as dates.
func buildCol(t *Table, name string, shown map[string]bool) *cellCol {
	i := t.Index(name)
	kind := t.Kind(name)
	if kind == format.Auto || kind == format.Time {
		if allMidnight(t, i) {
			kind = format.Date
		}
	}
	c := &cellCol{name: name, label: t.Label(name)}
	c.numeric = kind.Numeric() || (kind == format.Auto && allNumeric(t, i))
	c.text = !c.numeric && (kind == format.Auto || kind == format.Text)
	bi := -1
	if b, ok := t.Beside[name]; ok && !shown[b] {
		bi = t.Index(b)
	}
	ui := -1
	if u, ok := t.Unknown[name]; ok {
		ui = t.Index(u)
	}
	c.main = make([]string, len(t.Rows))
	if bi >= 0 {
		c.beside = make([]string, len(t.Rows))
	}
	for r, row := range t.Rows {
		c.main[r] = format.Human(kind, row[i])
		if row[i] == nil && ui >= 0 && row[ui] != nil {
			c.main[r] = "unknown"
		}
		c.mainW = max(c.mainW, width(c.main[r]))
		if bi >= 0 && row[bi] != nil {
			if h, ok := t.BesideText[t.Columns[bi]]; ok {
				c.beside[r] = h(row[bi])
			} else {
				c.beside[r] = format.Human(t.Kind(t.Columns[bi]), row[bi])
			}
			c.besideW = max(c.besideW, width(c.beside[r]))
		}
	}
	c.width = c.natural()
	return c
}

func allMidnight(t *Table, i int) bool {
	seen := false
	for _, r := range t.Rows {
		switch v := r[i].(type) {
		case nil:
		case time.Time:
			u := v.UTC()
			if u.Hour() != 0 || u.Minute() != 0 || u.Second() != 0 || u.Nanosecond() != 0 {
				return false
			}
			seen = true
		default:
			return false
		}
	}
	return seen
}

func allNumeric(t *Table, i int) bool {
	seen := false
	for _, r := range t.Rows {
		if r[i] == nil {
			continue
		}
		if _, ok := format.Float(r[i]); !ok {
			return false
		}
		seen = true
	}
	return seen
}

// fit makes cols fit in width, in three steps: long text columns other
// than the first are truncated to a comfortable width (comfortText); then
// columns are left out from the end, never the first, so a name is not cut
// to keep a less important column; then, if one column is left, it is cut
// to the width. It returns the columns kept and the names of those left
// out.
func fit(cols []*cellCol, limit int) ([]*cellCol, []string) {
	total := func() int {
		n := gap * (len(cols) - 1)
		for _, c := range cols {
			n += c.width
		}
		return n
	}
	for _, c := range cols[1:] {
		if over := total() - limit; over > 0 && c.text {
			if floor := max(comfortText, width(c.label)); c.width > floor {
				c.width = max(floor, c.width-over)
			}
		}
	}
	var hidden []string
	for total() > limit && len(cols) > 1 {
		hidden = append([]string{cols[len(cols)-1].name}, hidden...)
		cols = cols[:len(cols)-1]
	}
	if total() > limit {
		cols[0].width = max(minText, limit)
	}
	// Room freed by the columns left out goes back to the cut ones.
	for _, c := range cols {
		if free := limit - total(); free > 0 && c.width < c.natural() {
			c.width = min(c.natural(), c.width+free)
		}
	}
	return cols, hidden
}

// natural is the width the column takes uncut.
func (c *cellCol) natural() int { return max(width(c.label), c.cellWidth()) }

// width is the number of terminal cells s takes.
func width(s string) int { return uniseg.StringWidth(s) }

// truncate shortens s to w cells, ending in "…" when anything was cut.
func truncate(s string, w int) string {
	if width(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		cw := g.Width()
		if used+cw > w-1 {
			break
		}
		b.WriteString(g.Str())
		used += cw
	}
	return b.String() + "…"
}

func padLeft(s string, w int) string {
	if n := w - width(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}

func padRight(s string, w int) string {
	if n := w - width(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}
