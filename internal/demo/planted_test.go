package demo

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// controls evaluates the governance controls of DESIGN.md on a dataset,
// independently of the SQL that ships them, with the default configuration
// (one approving review, five days for an emergency review, standard
// changes pre-approved, the freezes of Freezes). It returns control → ids.
func controls(ds dataset, freezes []Freeze) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(control, id string) {
		if out[control] == nil {
			out[control] = map[string]bool{}
		}
		out[control][id] = true
	}
	services := ds.index("service", "id")
	crs := ds.index("change_request", "id")
	approvals := map[string][]record{}
	for _, a := range ds["approval"] {
		approvals[a.str("change_request")] = append(approvals[a.str("change_request")], a)
	}
	deployersOf := map[string][]string{}
	for _, d := range ds["deployment"] {
		if d.str("environment") != "production" {
			continue
		}
		id, started, by := d.str("id"), d.time("started_at"), d.str("triggered_by")
		svc := services[d.str("service")]
		if !contains(svc.strs("allowed_deployers"), by) {
			add("deployer-not-allowed", id)
		}
		if d.boolean("is_rollback") && !contains(svc.strs("rollback_authority"), by) {
			add("rollback-authority", id)
		}
		for _, f := range freezes {
			if !started.Before(f.Start) && started.Before(f.End) {
				add("outside-window", id)
			}
		}
		crID := d.str("change_request")
		cr, ok := crs[crID]
		if !ok {
			add("unapproved-production-change", id)
			continue
		}
		deployersOf[crID] = append(deployersOf[crID], by)
		if cr.str("risk") != "standard" {
			approved := false
			for _, a := range approvals[crID] {
				if a.str("decision") == "approved" && a.time("decided_at").Before(started) {
					approved = true
				}
			}
			if !approved {
				add("unapproved-production-change", id)
			}
		}
		if started.Before(cr.time("planned_start")) || started.After(cr.time("planned_end")) {
			add("outside-window", id)
		}
		if !contains(cr.strs("services"), d.str("service")) {
			add("plan-vs-actual", id)
		}
	}
	for _, cr := range ds["change_request"] {
		id := cr.str("id")
		approvers := map[string]bool{}
		for _, a := range approvals[id] {
			if a.str("decision") == "approved" {
				approvers[a.str("approver")] = true
			}
		}
		if len(approvers) == 1 && approvers[cr.str("requested_by")] {
			add("self-approval", id)
		}
		for _, by := range deployersOf[id] {
			if approvers[by] {
				add("self-approval", id)
			}
		}
		if cr.str("risk") == "emergency" && cr.str("status") == "implemented" {
			r := cr.time("reviewed_after_at")
			if r.IsZero() || r.Sub(cr.time("implemented_at")) > 5*24*time.Hour {
				add("emergency-without-review", id)
			}
		}
		if cr.str("status") == "implemented" && len(deployersOf[id]) == 0 {
			add("plan-vs-actual", id)
		}
	}
	for _, c := range ds["change"] {
		if c.has("merged_at") && c.num("approvals") < 1 {
			add("unreviewed-change", c.str("id"))
		}
	}
	return out
}

// plantedFromREADME reads the table of planted violations in README.md:
// rows `| control | id | … |` between the markers.
func plantedFromREADME(t *testing.T) map[string]map[string]bool {
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]bool{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "<!-- planted:begin -->"):
			in = true
		case strings.Contains(line, "<!-- planted:end -->"):
			in = false
		case in && strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			control := strings.Trim(strings.TrimSpace(cells[1]), "`")
			id := strings.Trim(strings.TrimSpace(cells[2]), "`")
			if out[control] == nil {
				out[control] = map[string]bool{}
			}
			out[control][id] = true
		}
	}
	if len(out) == 0 {
		t.Fatal("README.md has no planted-violation table")
	}
	return out
}

// TestPlantedViolations: the controls find exactly the violations README.md
// lists, no more (the generator makes no accidental ones) and no fewer.
func TestPlantedViolations(t *testing.T) {
	ds := defaultDataset(t)
	got := controls(ds, Freezes(DefaultOptions()))
	want := plantedFromREADME(t)
	for _, c := range []string{"unapproved-production-change", "self-approval", "emergency-without-review",
		"unreviewed-change", "outside-window", "plan-vs-actual", "rollback-authority", "deployer-not-allowed"} {
		if len(want[c]) == 0 {
			t.Errorf("README lists no violation of %s", c)
		}
		if !reflect.DeepEqual(sortedKeys(got[c]), sortedKeys(want[c])) {
			t.Errorf("%s: found %v, README lists %v", c, sortedKeys(got[c]), sortedKeys(want[c]))
		}
	}
}

// TestControlsCatchEachRule checks the evaluator above on hand-made records,
// so that the planted test cannot pass by a control that never fires.
func TestControlsCatchEachRule(t *testing.T) {
	mk := func(kind string, kv ...any) record {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return record{file: kind, m: m}
	}
	ds := dataset{
		"service": {mk("service", "id", "s", "allowed_deployers", []any{"bot", "rm"}, "rollback_authority", []any{"rm"})},
		"change_request": {
			mk("change_request", "id", "C1", "services", []any{"s"}, "risk", "normal", "requested_by", "dev", "status", "implemented",
				"planned_start", "2026-01-01T10:00:00Z", "planned_end", "2026-01-01T14:00:00Z", "implemented_at", "2026-01-01T11:00:00Z"),
			mk("change_request", "id", "C2", "services", []any{"s"}, "risk", "emergency", "requested_by", "dev", "status", "implemented",
				"implemented_at", "2026-01-01T11:00:00Z", "reviewed_after_at", "2026-01-06T11:00:01Z"),
		},
		"approval": {mk("approval", "change_request", "C1", "approver", "dev", "decision", "approved", "decided_at", "2026-01-01T09:00:00Z")},
		"deployment": {
			mk("deployment", "id", "D1", "service", "s", "environment", "production", "started_at", "2026-01-01T15:00:00Z", "triggered_by", "rm", "change_request", "C1", "is_rollback", true),
			mk("deployment", "id", "D2", "service", "s", "environment", "production", "started_at", "2026-01-01T12:00:00Z", "triggered_by", "dev"),
		},
		"change": {mk("change", "id", "P1", "merged_at", "2026-01-01T09:00:00Z", "approvals", 0.0)},
	}
	got := controls(ds, nil)
	want := map[string][]string{
		"self-approval":                {"C1"},
		"emergency-without-review":     {"C2"},
		"plan-vs-actual":               {"C2"},
		"outside-window":               {"D1"},
		"unapproved-production-change": {"D2"},
		"deployer-not-allowed":         {"D2"},
		"unreviewed-change":            {"P1"},
	}
	for c, ids := range want {
		if !reflect.DeepEqual(sortedKeys(got[c]), ids) {
			t.Errorf("%s = %v, want %v", c, sortedKeys(got[c]), ids)
		}
	}
	if len(got["rollback-authority"]) != 0 {
		t.Errorf("rollback by rm flagged: %v", got["rollback-authority"])
	}
}
