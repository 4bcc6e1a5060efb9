package cmdutil

import "testing"

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
