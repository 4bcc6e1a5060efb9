package config

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var errEOF = io.EOF

// Duration is a time.Duration written in YAML as "24h", "90m" or "7d".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML accepts Go durations plus a whole number of days ("7d").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go form.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// ParseDuration parses "24h", "90m", "1h30m" or "7d".
func ParseDuration(s string) (time.Duration, error) {
	var days int
	if n, err := fmt.Sscanf(s, "%dd", &days); err == nil && n == 1 && fmt.Sprintf("%dd", days) == s {
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use forms like 24h, 90m or 7d)", s)
	}
	return v, nil
}

func checkRegexp(p string) error {
	_, err := regexp.Compile(p)
	return err
}

// GlobRegexp turns the globs of metrics.exclude_authors into one RE2
// expression, anchored and case-insensitive, or "" when there are none.
// Only `*` (any run of characters) and `?` (one character) are special:
// a bot's name such as `renovate[bot]` has brackets that a shell-style
// character class would misread, so every other character is literal.
// The expression is matched against the trimmed name.
func GlobRegexp(globs []string) string {
	if len(globs) == 0 {
		return ""
	}
	parts := make([]string, len(globs))
	for i, g := range globs {
		var b strings.Builder
		for _, r := range strings.TrimSpace(g) {
			switch r {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		parts[i] = b.String()
	}
	return `(?is)^(?:` + strings.Join(parts, "|") + `)$`
}
