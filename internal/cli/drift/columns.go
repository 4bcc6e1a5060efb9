package drift

import (
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// kinds say what drift's columns are: days apart read as a duration
// ("-1.4 h"), commit counts and times as such.
var kinds = map[string]format.Kind{
	"production_at": format.Time, "staging_at": format.Time, "days_apart": format.Days,
	"commits_ahead": format.Count, "commits_behind": format.Count, "production_unstaged": format.Bool,
}

var labels = map[string]string{
	"production_version": "PRODUCTION", "staging_version": "STAGING", "commits_ahead": "AHEAD",
	"commits_behind": "BEHIND", "days_apart": "APART", "production_unstaged": "UNSTAGED",
}

// describe attaches drift's kinds and headings; on a terminal the service
// view leads with versions and distance, the commit hashes come with --wide.
func describe(t *output.Table) *output.Table {
	t.Describe(kinds, labels)
	if t.Index("staging_version") >= 0 && t.Index("commits_ahead") >= 0 {
		t.Primary = []string{"service", "production_version", "staging_version", "commits_ahead",
			"commits_behind", "days_apart", "production_unstaged", "production_at"}
	}
	return t
}
