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
	inChange := map[string]bool{}
	for _, c := range ds["change"] {
		for _, sha := range append(c.strs("commit_shas"), c.str("merge_commit_sha")) {
			inChange[sha] = true
		}
	}
	for _, c := range ds["commit"] {
		switch {
		case len(c.strs("parents")) == 2:
			count["merge commit"]++
		case len(c.strs("parents")) == 1 && !inChange[c.str("sha")]:
			count["direct commit on main"]++
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
		"direct commit on main", "revert", "open change", "two approvals", "sev1", "sev2", "sev3", "sev4",
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

// TestOtherPlantedSituations pins the non-governance situations README.md
// names by id, so the documentation cannot drift from the data.
func TestOtherPlantedSituations(t *testing.T) {
	ds := defaultDataset(t)
	deps := ds.index("deployment", "id")
	incidents := ds.index("incident", "id")
	plans := ds.index("release_plan", "id")

	// A production version that never went through staging.
	staged := map[string]bool{}
	lastOK := map[string]record{}
	var never []string
	for _, d := range ds["deployment"] {
		key := d.str("service") + "@" + d.str("version")
		if d.str("environment") == "staging" {
			staged[key] = true
		} else if !staged[key] {
			never = append(never, d.str("id"))
		}
		if d.str("status") == "success" {
			lastOK[d.str("service")+"/"+d.str("environment")] = d
		}
	}
	if len(never) != 1 || never[0] != "deploy-api-gateway-0033" {
		t.Errorf("never staged = %v, want [deploy-api-gateway-0033]", never)
	}
	// Staging ahead of production at the end.
	for svc, want := range map[string][2]string{"payment-gateway": {"3.174.0", "3.173.0"}, "catalog": {"1.94.0", "1.93.0"}, "reporting": {"2.25.0", "2.24.0"}} {
		s, p := lastOK[svc+"/staging"].str("version"), lastOK[svc+"/production"].str("version")
		if s != want[0] || p != want[1] {
			t.Errorf("%s: staging %s, production %s; want %s ahead of %s", svc, s, p, want[0], want[1])
		}
	}
	// Colliding windows: each pair overlaps.
	for _, pair := range [][2]string{{"RP-3001", "RP-2001"}, {"RP-9023", "RP-11010"}} {
		a, b := plans[pair[0]], plans[pair[1]]
		if !(a.time("window_start").Before(b.time("window_end")) && b.time("window_start").Before(a.time("window_end"))) {
			t.Errorf("%s and %s do not collide", pair[0], pair[1])
		}
	}
	// RP-10022 lies in the year-end freeze.
	fz := Freezes(DefaultOptions())[1]
	if at := plans["RP-10022"].time("planned_at"); at.Before(fz.Start) || !at.Before(fz.End) {
		t.Errorf("RP-10022 planned at %v, outside the year-end freeze", at)
	}
	// INC-110005: sev2, 30 h after deploy-reporting-0006 (finished
	// 2026-06-29T18:28:20Z → opened 2026-07-01T00:28:20Z), no production
	// deployment of reporting in between.
	inc := incidents["INC-110005"]
	if inc.str("severity") != "sev2" || inc.str("opened_at") != "2026-07-01T00:28:20Z" ||
		deps["deploy-reporting-0006"].str("finished_at") != "2026-06-29T18:28:20Z" {
		t.Errorf("INC-110005 = %v", inc.m)
	}
	for _, d := range ds["deployment"] {
		if d.str("service") == "reporting" && d.str("environment") == "production" &&
			d.time("finished_at").After(deps["deploy-reporting-0006"].time("finished_at")) && d.time("started_at").Before(inc.time("opened_at")) {
			t.Errorf("%s lies between deploy-reporting-0006 and INC-110005", d.str("id"))
		}
	}
	// INC-10012 is open at the end; INC-60002 was never closed.
	for _, id := range []string{"INC-10012", "INC-60002"} {
		if incidents[id].has("resolved_at") || !incidents[id].has("opened_at") {
			t.Errorf("%s should exist and be unresolved", id)
		}
	}
	if incidents["INC-10012"].str("severity") != "sev2" || incidents["INC-10012"].str("service") != "checkout-api" {
		t.Errorf("INC-10012 = %v", incidents["INC-10012"].m)
	}
}
