package git

import "testing"

func TestGuessTagPattern(t *testing.T) {
	tests := []struct {
		name    string
		tags    []string
		pattern string
		matched int
	}{
		{"v-prefixed", []string{"v1.0.0", "v1.1.0", "v1.2.0-rc1", "docs", "v2.0.0"}, `^v\d+\.\d+\.\d+$`, 3},
		{"bare", []string{"1.0.0", "1.0.1", "v0.9-beta"}, `^\d+\.\d+\.\d+$`, 2},
		// two shapes mixed: the default pattern takes both
		{"mixed", []string{"v1.0", "1.1.0", "v1.2.0"}, DefaultTagPattern, 3},
		{"release", []string{"release-1.2", "release-1.3", "nightly"}, `^release[-_/]v?\d+(\.\d+)*$`, 2},
		{"dated", []string{"release-2024-05-01", "release-2024-06-01"}, `^release[-_/][0-9][0-9-]*$`, 2},
		{"monorepo", []string{"api@1.2.3", "web/v1.0.0"}, `^[A-Za-z0-9_.-]+[@/-]v?\d+\.\d+\.\d+$`, 2},
		{"none", []string{"nightly", "docs"}, "", 0},
		{"no tags", nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := GuessTagPattern(tt.tags)
			if g.Pattern != tt.pattern || g.Matched != tt.matched || g.Tags != len(tt.tags) {
				t.Errorf("got %q matching %d of %d, want %q matching %d", g.Pattern, g.Matched, g.Tags, tt.pattern, tt.matched)
			}
		})
	}
}
