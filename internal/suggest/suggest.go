// Package suggest turns a name nobody has — a typo'd team, service, metric
// or column — into an error that lists the closest known names, the way git
// answers "git stauts". Commands call Check (or CheckAll) before they query,
// so that a typo fails loudly with exit status 2 instead of printing an
// empty table.
package suggest

import (
	"fmt"
	"sort"
	"strings"
)

// UnknownError is a name that matches none of the known ones. main maps it
// to exit status 2 (bad usage).
type UnknownError struct {
	// What the name is: "team", "service", "metric", "column" …
	What string
	// Name is the name as given.
	Name string
	// Closest are the known names nearest to Name, best first; empty when
	// none is near.
	Closest []string
	// Known are all the known names, sorted.
	Known []string
	// Hint, when set, replaces the list of known names when none is close
	// ("shiplog query --list shows them").
	Hint string
}

func (e *UnknownError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown %s %q", e.What, e.Name)
	switch {
	case len(e.Known) == 0:
		fmt.Fprintf(&b, ": there is no %s at all", e.What)
	case len(e.Closest) == 1:
		fmt.Fprintf(&b, "; did you mean %q?", e.Closest[0])
	case len(e.Closest) > 1:
		fmt.Fprintf(&b, "; did you mean one of %s?", quoteList(e.Closest))
	case e.Hint != "":
		fmt.Fprintf(&b, "; %s", e.Hint)
	case len(e.Known) <= maxListed:
		fmt.Fprintf(&b, "; known: %s", strings.Join(e.Known, ", "))
	default:
		fmt.Fprintf(&b, "; %d known, such as %s", len(e.Known), strings.Join(e.Known[:maxListed], ", "))
	}
	return b.String()
}

// maxListed is how many known names an error lists when none is close.
const maxListed = 12

// maxClosest is how many close names an error suggests.
const maxClosest = 3

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// fold is how names are compared: trimmed and case-insensitive, as
// everywhere in shiplog.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Check returns the known spelling of name (matched trimmed and
// case-insensitively), or an *UnknownError listing the closest known names.
func Check(what, name string, known []string) (string, error) {
	f := fold(name)
	for _, k := range known {
		if fold(k) == f {
			return k, nil
		}
	}
	sorted := uniqueSorted(known)
	return "", &UnknownError{What: what, Name: name, Closest: Closest(name, sorted), Known: sorted}
}

// CheckAll checks every name and returns them in their known spelling; the
// error is the first unknown one.
func CheckAll(what string, names, known []string) ([]string, error) {
	if len(names) == 0 {
		return names, nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		k, err := Check(what, n, known)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// Closest returns up to three known names near name, nearest first: those
// within an edit distance of about a third of the name's length (at least
// 2; a swap of two neighbouring letters counts as one edit), and those that
// contain it or that it contains. Ties keep the order of known.
func Closest(name string, known []string) []string {
	f := fold(name)
	if f == "" {
		return nil
	}
	limit := max(2, len([]rune(f))/3)
	type cand struct {
		name string
		dist int
		i    int
	}
	var cs []cand
	for i, k := range known {
		fk := fold(k)
		d := distance(f, fk)
		switch {
		case d <= limit:
		case len(f) >= 3 && (strings.Contains(fk, f) || strings.Contains(f, fk) && len(fk) >= 3):
			// a prefix or part of a longer name: "pay" → "payments"
			d = limit + 1
		default:
			continue
		}
		cs = append(cs, cand{k, d, i})
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].dist < cs[b].dist })
	var out []string
	for _, c := range cs {
		if len(out) == maxClosest {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of neighbours
// each cost one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func uniqueSorted(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
