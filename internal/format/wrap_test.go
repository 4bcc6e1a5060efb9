package format

import (
	"io"
	"strings"
	"testing"
)

func TestWrapList(t *testing.T) {
	tests := []struct {
		lead  string
		items []string
		width int
		want  string
	}{
		{"Kinds:", []string{"a", "b"}, 80, "Kinds: a, b"},
		{"Kinds:", nil, 80, "Kinds:"},
		// "Kinds: alpha, beta," is 19 columns; ", gamma" would make 26
		{"Kinds:", []string{"alpha", "beta", "gamma", "delta"}, 20, "Kinds: alpha, beta,\ngamma, delta"},
		// exactly the width stays on the line
		{"K:", []string{"ab", "cd"}, 10, "K: ab, cd"},
		{"K:", []string{"ab", "cd"}, 8, "K: ab,\ncd"},
		{"K:", []string{"a-very-long-item", "b"}, 8, "K:\na-very-long-item,\nb"},
	}
	for _, tt := range tests {
		if got := WrapList(tt.lead, tt.items, tt.width); got != tt.want {
			t.Errorf("WrapList(%q, %q, %d) = %q, want %q", tt.lead, tt.items, tt.width, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	long := "no approved change request with its window open: window ended for 176 requests (the latest raised: CHG-20011, CHG-10176, CHG-10175)"
	tests := []struct {
		text          string
		width, indent int
		want          string
	}{
		{"short text", 80, 10, "short text"},
		{long, 0, 10, long},  // not a terminal
		{long, 40, 25, long}, // 15 columns left: not wrapped
		// 51 columns from column 29: "…its window open:" is 48, "…raised:" 49
		{long, 80, 29, "no approved change request with its window open:\n" +
			strings.Repeat(" ", 29) + "window ended for 176 requests (the latest raised:\n" +
			strings.Repeat(" ", 29) + "CHG-20011, CHG-10176, CHG-10175)"},
		// a word longer than the room stays whole on its own line
		{"a " + strings.Repeat("x", 30) + " b", 40, 15, "a\n" + strings.Repeat(" ", 15) + strings.Repeat("x", 30) + "\n" + strings.Repeat(" ", 15) + "b"},
	}
	for _, tt := range tests {
		got := Wrap(tt.text, tt.width, tt.indent)
		if got != tt.want {
			t.Errorf("Wrap(%q, %d, %d) =\n%s\nwant\n%s", tt.text, tt.width, tt.indent, got, tt.want)
		}
		for i, l := range strings.Split(got, "\n") {
			start := tt.indent
			if i > 0 {
				start = 0
			}
			if tt.width > 0 && tt.width-tt.indent >= 20 && start+len([]rune(l)) > tt.width && !strings.Contains(strings.TrimSpace(l), "xxxxxxxxxx") {
				t.Errorf("line %d passes column %d: %q", i+1, tt.width, l)
			}
		}
	}
}

func TestLineWrapper(t *testing.T) {
	var b strings.Builder
	w := &LineWrapper{W: &b, Width: 30}
	// written in pieces, as fmt.Fprintf does
	for _, s := range []string{"[ 1/69] stg_a   1ms\n", "planning: digests 14ms (41 partition(s)), ", "changed 4ms, seeds 113ms\n", "  an indented line that is longer than thirty\n", "partial"} {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// room 28 columns after the indent of two: "planning: digests 14ms (41" is 26
	want := "[ 1/69] stg_a   1ms\n" +
		"planning: digests 14ms (41\n" +
		"  partition(s)), changed 4ms,\n" +
		"  seeds 113ms\n" +
		"  an indented line that is\n" +
		"    longer than thirty\n" +
		"partial"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	var plain strings.Builder
	p := &LineWrapper{W: &plain}
	io.WriteString(p, "planning: digests 14ms (41 partition(s)), changed 4ms, seeds 113ms\n")
	if plain.String() != "planning: digests 14ms (41 partition(s)), changed 4ms, seeds 113ms\n" {
		t.Errorf("width 0 changed the line: %q", plain.String())
	}
}
