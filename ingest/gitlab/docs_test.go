package gitlab_test

import (
	"os"
	"regexp"
	"testing"

	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	"github.com/shiplog/shiplog/internal/config"
)

// TestDocumentedConfigurationWorks: the shiplog.yaml block of
// docs/gitlab.md parses, validates and builds a source.
func TestDocumentedConfigurationWorks(t *testing.T) {
	doc, err := os.ReadFile("../../docs/gitlab.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/gitlab.md has no yaml block")
	}
	cfg := config.Default()
	if err := config.Parse(m[1], cfg); err != nil {
		t.Fatalf("docs/gitlab.md yaml: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("docs/gitlab.md yaml: %v", err)
	}
	g := cfg.Sources.GitLab
	if g == nil || g.URL != "https://gitlab.example.com" || len(g.Projects) != 1 || g.Incidents == nil || g.Incidents.Label != "incident" {
		t.Fatalf("sources.gitlab read as %+v", g)
	}
	if _, err := gitlabsrc.New(g, nil, gitlabsrc.WithProductionEnvironments(cfg.Metrics.ProductionEnvironments)); err != nil {
		t.Fatal(err)
	}
	if cfg.Schedules["gitlab"] == "" {
		t.Error("the block schedules no gitlab job")
	}
}
