package demo

import (
	"strings"
	"testing"
	"time"
)

// TestDatasetExercisesEveryFeature counts, in the default dataset, the
// situations each view of the product needs, so that a generator change
// cannot silently drop one.
func TestDatasetExercisesEveryFeature(t *testing.T) {
	ds := defaultDataset(t)
	count := map[string]int{}
	for _, d := range ds["deployment"] {
		prod := d.str("environment") == "production"
		count["env "+d.str("environment")]++
		count["status "+d.str("status")]++
		switch {
		case d.has("changes"):
			count["link explicit"]++
			if strings.Contains(d.strs("changes")[0], "#") {
				count["changes by change id"]++
			} else {
				count["changes by commit sha"]++
			}
		case d.has("commit_sha") && d.has("previous_commit_sha"):
			count["link commit graph"]++
		case !d.has("commit_sha"):
			count["link time only"]++
		}
		if prod && d.boolean("is_rollback") && d.has("rollback_of") {
			count["rollback"]++
		}
		if prod && d.boolean("is_hotfix") && strings.HasSuffix(d.str("version"), "-hotfix") {
			count["hotfix"]++
			if strings.HasPrefix(d.str("hotfix_of"), "INC-") {
				count["hotfix of incident"]++
			}
		}
		if prod && d.has("change_request") {
			count["deployment with change request"]++
		}
	}
	for _, s := range ds["service"] {
		if s.has("paths") {
			count["monorepo service"]++
		}
		if s.has("depends_on") {
			count["service with dependencies"]++
		}
	}
	for _, c := range ds["commit"] {
		if len(c.strs("parents")) == 2 {
			count["merge commit"]++
		}
	}
	for _, c := range ds["change"] {
		if c.boolean("is_revert") {
			count["revert"]++
		}
		if !c.has("merged_at") {
			count["open change"]++
		}
		if c.num("approvals") >= 2 {
			count["two approvals"]++
		}
	}
	for _, i := range ds["incident"] {
		count[i.str("severity")]++
		if i.has("caused_by_deployment") {
			count["incident caused_by_deployment"]++
		}
		if i.has("root_cause_sha") {
			count["incident root_cause_sha"]++
		}
		if i.boolean("is_false_positive") {
			count["false positive"]++
		}
		if !i.has("resolved_at") {
			count["unresolved incident"]++
		}
		if h := i.time("opened_at").Hour(); h < 8 || h >= 18 || i.time("opened_at").Weekday() == time.Sunday {
			count["incident out of hours"]++
		}
	}
	for _, c := range ds["change_request"] {
		count["risk "+c.str("risk")]++
		count["cr "+c.str("status")]++
	}
	for _, a := range ds["approval"] {
		count["role "+a.str("role")]++
		count["decision "+a.str("decision")]++
	}
	for _, tr := range ds["test_run"] {
		count["framework "+tr.str("framework")]++
		if tr.boolean("required") && tr.num("failed") > 0 {
			count["failing required suite"]++
		}
		if !tr.boolean("required") {
			count["optional suite"]++
		}
	}
	for _, s := range ds["support_ticket"] {
		if s.has("incident") {
			count["ticket linked to incident"]++
		}
	}
	features := map[string]bool{}
	for _, a := range ds["adoption"] {
		features[a.str("service")+"/"+a.str("feature")] = true
		if a.num("active_users") > a.num("eligible_users") {
			t.Errorf("%s:%d: more active than eligible users", a.file, a.line)
		}
	}
	count["adopted feature"] = len(features)
	for _, p := range ds["release_plan"] {
		if p.time("planned_at").After(DefaultEnd) {
			count["future plan"]++
		}
	}
	need := []string{"env staging", "env production", "status success", "status failure", "status cancelled",
		"link explicit", "changes by change id", "changes by commit sha", "link commit graph", "link time only", "rollback", "hotfix", "hotfix of incident",
		"deployment with change request", "monorepo service", "service with dependencies", "merge commit",
		"revert", "open change", "two approvals", "sev1", "sev2", "sev3", "sev4",
		"incident caused_by_deployment", "incident root_cause_sha", "false positive", "unresolved incident",
		"incident out of hours", "risk standard", "risk normal", "risk emergency", "cr draft", "cr submitted",
		"cr approved", "cr rejected", "cr implemented", "cr cancelled", "role peer", "role cab", "role security",
		"role release_manager", "decision approved", "decision rejected", "framework go", "framework junit",
		"framework pytest", "framework jest", "failing required suite", "optional suite",
		"ticket linked to incident", "adopted feature", "future plan"}
	for _, k := range need {
		if count[k] == 0 {
			t.Errorf("default dataset has no %s", k)
		}
	}
	// Five monorepo services: two in acme/payments, three in acme/commerce.
	if count["monorepo service"] != 5 {
		t.Errorf("monorepo services = %d, want 5", count["monorepo service"])
	}
}
