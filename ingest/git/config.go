package git

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultTagPattern keeps release tags such as v1.2.3 or 2.4 and leaves out
// pre-releases (v1.2.3-rc1) and other tags.
const DefaultTagPattern = `^v?[0-9]+\.[0-9]+(\.[0-9]+)?$`

// Config is one repository to read.
type Config struct {
	// Repo is the path of a local clone (a working tree or a bare repository).
	Repo string
	// Name is the repository's name in the warehouse (owner/name), the value
	// of commits.repo. Empty: taken from the origin remote, else the folder name.
	Name string
	// Service receives the tags as production deployments. Empty: the last
	// part of Name.
	Service string
	// TagPattern is a regular expression; tags that match are releases.
	TagPattern string
}

// NewConfig returns a Config for the clone at repo with the defaults set.
func NewConfig(repo string) Config {
	return Config{Repo: repo, TagPattern: DefaultTagPattern}
}

// Validate checks the configuration before any work starts.
func (c *Config) Validate() error {
	if c.Repo == "" {
		return errors.New("git: a repository path is needed (--repo)")
	}
	if c.TagPattern == "" {
		c.TagPattern = DefaultTagPattern
	}
	if _, err := regexp.Compile(c.TagPattern); err != nil {
		return fmt.Errorf("git: tag pattern %q: %w", c.TagPattern, err)
	}
	if c.Name != "" && strings.ContainsAny(c.Name, " \t\n") {
		return fmt.Errorf("git: repository name %q must not contain spaces", c.Name)
	}
	return nil
}

// nameFromRemote turns a remote address into owner/name:
// git@github.com:acme/api.git, https://github.com/acme/api and
// ssh://git@host/acme/api.git all give acme/api.
func nameFromRemote(remote string) string {
	remote = strings.TrimSpace(remote)
	if remote == "" {
		return ""
	}
	path := remote
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && u.Host != "" {
		path = u.Path
	} else if i := strings.Index(remote, ":"); i > 0 && !strings.Contains(remote[:i], "/") {
		path = remote[i+1:] // scp-like user@host:owner/name
	}
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return parts[len(parts)-1]
}

// defaultName is the clone's folder name without a .git suffix.
func defaultName(repo string) string {
	abs, err := filepath.Abs(repo)
	if err != nil {
		abs = repo
	}
	return strings.TrimSuffix(filepath.Base(abs), ".git")
}
