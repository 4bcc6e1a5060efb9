package git

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// TagPatterns are the release-tag shapes GuessTagPattern tries, most
// specific first. Pre-releases (v1.2.3-rc1, 1.2.3-beta) match none of the
// version shapes: a release candidate is not a production deployment.
var TagPatterns = []struct {
	Pattern string
	Example string
}{
	{`^v\d+\.\d+\.\d+$`, "v1.2.3"},
	{`^\d+\.\d+\.\d+$`, "1.2.3"},
	{DefaultTagPattern, "v1.2 or 1.2.3"},
	{`^release[-_/]v?\d+(\.\d+)*$`, "release-1.2.3"},
	{`^release[-_/][0-9][0-9-]*$`, "release-2024-05-01"},
	{`^[A-Za-z0-9_.-]+[@/-]v?\d+\.\d+\.\d+$`, "name@1.2.3 or name/v1.2.3"},
}

// Guess is the tag pattern GuessTagPattern chose.
type Guess struct {
	Pattern string
	Example string
	Matched int // tags it matches
	Tags    int // tags in the repository
}

// GuessTagPattern chooses, among TagPatterns, the one that matches the most
// of tags (the first of equals, so the most specific); Matched is 0 when
// none matches any.
func GuessTagPattern(tags []string) Guess {
	g := Guess{Tags: len(tags)}
	for _, p := range TagPatterns {
		re := regexp.MustCompile(p.Pattern)
		n := 0
		for _, t := range tags {
			if re.MatchString(t) {
				n++
			}
		}
		if n > g.Matched {
			g.Pattern, g.Example, g.Matched = p.Pattern, p.Example, n
		}
	}
	return g
}

// TagNames lists the repository's tags (names without refs/tags/).
func (s *Source) TagNames(ctx context.Context) ([]string, error) {
	if err := s.resolve(ctx); err != nil {
		return nil, err
	}
	out, err := s.output(ctx, nil, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags")
	if err != nil {
		return nil, fmt.Errorf("git: %s: list tags: %w", s.cfg.Repo, err)
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" {
			names = append(names, l)
		}
	}
	return names, nil
}

// Remote is the origin remote's address ("" without one).
func (s *Source) Remote(ctx context.Context) string {
	out, _ := s.output(ctx, nil, "config", "--get", "remote.origin.url")
	return strings.TrimSpace(string(out))
}
