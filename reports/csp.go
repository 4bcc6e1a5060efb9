package reports

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"regexp"
	"sort"
)

// inlineScriptRE finds the inline scripts of the page templates: a plain
// <script> element with no template action inside. JSON data blocks
// (type="application/json") are not run by the browser.
var inlineScriptRE = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// InlineScriptHashes returns the Content-Security-Policy sources
// ('sha256-…') of the inline scripts of the page templates, the only inline
// scripts a served page may run. `shiplog serve` puts them in the policy of
// its dashboard pages, so that a script injected into a page (through data
// that escaped escaping) would not run; they come from the templates, not
// from the page, for that reason.
func InlineScriptHashes() []string {
	seen := map[string]bool{}
	names, _ := fs.Glob(templateFS, "templates/*.tmpl")
	for _, n := range names {
		b, err := fs.ReadFile(templateFS, n)
		if err != nil {
			continue
		}
		for _, m := range inlineScriptRE.FindAllSubmatch(b, -1) {
			sum := sha256.Sum256(m[1])
			seen["'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"] = true
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}
