package queries

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// retroData fills the contract marts with a small hand-made history; the
// expected results in TestRetroQueries are worked out from it by hand. The
// fields the models lift from extra (a change's size, who acknowledged an
// incident, its stated cause) are in the marts' columns, as staging puts
// them there.
// 2026-03-02 is a Monday; 03-07 a Saturday, 03-08 a Sunday.
const retroData = `
INSERT INTO fct_changes (change_id, service, team, title, author, first_commit_at, merged_at, deployment_id, deployed_at, lead_time_hours,
  coding_hours, pickup_hours, review_hours, deploy_hours, excluded_reason) VALUES
  ('c1', 'api', 'core', 'Rate limits', 'alice', '2026-03-01 00:00:00+00', '2026-03-03 00:00:00+00', 'd1', '2026-03-03 02:00:00+00', 50, 10, 30, 5, 5, NULL),
  ('c2', 'web', 'front', 'New header', 'bob', '2026-03-01 00:00:00+00', '2026-03-03 00:00:00+00', 'd2', '2026-03-05 04:00:00+00', 100, 20, 10, 20, 50, NULL),
  ('c3', 'api', 'core', 'Typo', 'alice', '2026-03-02 00:00:00+00', '2026-03-02 09:00:00+00', 'd1', '2026-03-02 10:00:00+00', 10, 4, 2, 3, 1, NULL),
  ('c4', 'api', 'core', 'Draft', 'carol', '2026-03-02 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'not_deployed'),
  ('c5', 'api', 'core', 'Big one', 'alice', '2026-03-06 00:00:00+00', NULL, 'd3', '2026-03-07 22:10:00+00', NULL, NULL, NULL, NULL, NULL, 'pre_tracking');
INSERT INTO fct_change_sizes VALUES ('c1', 30, 10, 40, 2), ('c2', NULL, NULL, NULL, 3), ('c3', 5, 0, 5, 1), ('c4', NULL, NULL, NULL, 1), ('c5', 600, 100, 700, 1);
INSERT INTO fct_deployments (deployment_id, service, team, is_production, status, started_at, finished_at, is_failed, is_unplanned) VALUES
  ('d1', 'api', 'core', true, 'success', '2026-03-02 09:20:00+00', '2026-03-02 09:30:00+00', false, false),
  ('d2', 'web', 'front', true, 'success', '2026-03-02 09:35:00+00', '2026-03-02 09:40:00+00', false, false),
  ('d3', 'api', 'core', true, 'success', '2026-03-07 22:00:00+00', '2026-03-07 22:10:00+00', true, true),
  ('d4', 'batch', 'data', true, 'success', '2026-03-03 13:00:00+00', '2026-03-03 14:00:00+00', false, false),
  ('d5', 'web', 'front', false, 'success', '2026-03-03 13:20:00+00', '2026-03-03 13:30:00+00', NULL, false);
INSERT INTO fct_deployment_changes VALUES ('d1', 'c1', 'explicit'), ('d1', 'c3', 'explicit'), ('d2', 'c2', 'time'), ('d3', 'c5', 'commit_graph');
INSERT INTO fct_incidents (incident_id, service, team, severity, title, opened_at, acknowledged_at, ack_hours, resolve_hours, is_false_positive,
  caused_by_deployment, acknowledged_by, stated_cause) VALUES
  ('i1', 'api', 'core', 'sev2', 'Checkout 502s on pod 7', '2026-03-02 10:00:00+00', NULL, NULL, 2, false, NULL, NULL, NULL),
  ('i2', 'api', 'core', 'sev2', 'Checkout 502s on pod 12', '2026-03-04 20:00:00+00', '2026-03-04 20:30:00+00', 0.5, 4, false, NULL, 'pat', NULL),
  ('i3', 'api', 'core', 'sev3', 'Disk full', '2026-03-07 03:00:00+00', NULL, NULL, 1, false, NULL, 'lee', 'capacity'),
  ('i4', 'api', 'core', 'sev3', 'Disk nearly full', '2026-03-08 11:00:00+00', NULL, NULL, 1, false, NULL, NULL, 'capacity'),
  ('i5', 'web', 'front', 'sev1', 'Login down', '2026-03-05 23:00:00+00', NULL, NULL, 0.2, true, NULL, NULL, NULL);
`

func TestRetroQueries(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec(martDDL + retroData); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query  string
		params map[string]string
		cols   []string
		want   []string // rows of the selected columns, values joined by |
	}{
		// Lead times 100, 50, 10; c4 is excluded. Longest stages: c2 deploy 50,
		// c1 pickup 30, c3 coding 4.
		{"slowest-changes", nil, []string{"change_id", "lead_time_hours", "waited_longest_in"},
			[]string{"c2|100|deploy", "c1|50|pickup", "c3|10|coding"}},
		{"slowest-changes", map[string]string{"team": "core", "limit": "1"}, []string{"change_id"}, []string{"c1"}},
		// api deploy hours 5 and 1: median 3, p75 1+0.75×4 = 4, p90 4.6; web 50.
		{"merge-to-production", nil, []string{"service", "changes", "handoff_median_hours", "handoff_p75_hours", "handoff_p90_hours", "handoff_max_hours", "slowest_change"},
			[]string{"web|1|50|50|50|50|c2", "api|2|3|4|4.6|5|c1"}},
		// Production only (d5 is staging): Monday 9h d1 d2, Tuesday 14h d4,
		// Saturday 22h d3 (failed).
		{"deployments-by-hour", nil, []string{"weekday", "hour", "deployments", "failed", "change_failure_rate"},
			[]string{"1|9|2|0|0", "2|14|1|0|0", "6|22|1|1|1"}},
		// New York is UTC-5 until 8 March: 04:30, 09:00, 17:10.
		{"deployments-by-hour", map[string]string{"time_zone": "America/New_York"}, []string{"weekday_name", "hour", "deployments"},
			[]string{"Monday|4|2", "Tuesday|9|1", "Saturday|17|1"}},
		// d1 (api, ends 09:30) and d2 (web, starts 09:35) are 5 minutes apart.
		{"deployment-collisions", nil, []string{"deployment_a", "service_a", "deployment_b", "service_b", "overlap_minutes", "either_failed"},
			[]string{"d1|api|d2|web|-5|false"}},
		{"deployment-collisions", map[string]string{"gap_minutes": "4"}, []string{"deployment_a"}, nil},
		// d1: c1 (40 lines) + c3 (5) = 45 lines → xs; d2: c2 has no line
		// counts, 3 commits → s; d3: c5 700 lines → l, failed; d4: nothing → unknown.
		{"failure-rate-by-size", nil, []string{"size", "measure", "deployments", "failed", "change_failure_rate"},
			[]string{"xs|lines|1|0|0", "s|commits|1|0|0", "l|lines|1|1|1", "unknown|unknown|1|0|0"}},
		// i1 and i2 share a normalised title, i3 and i4 the extra cause; i5 is a false positive.
		{"recurring-incidents", nil, []string{"service", "cause", "incidents", "incident_ids", "resolve_median_hours"},
			[]string{"api|capacity|2|[\"i3\",\"i4\"]|1", "api|checkout #s on pod #|2|[\"i1\",\"i2\"]|3"}},
		// Business hours Mon–Fri 9–18 UTC: i1 (Monday 10:00) is inside.
		{"incidents-outside-hours", nil, []string{"incident_id", "outside", "acknowledged_by"},
			[]string{"i2|night|pat", "i5|night|", "i3|weekend|lee", "i4|weekend|"}},
		// failed 1 of 2 api deployments; web 0 of 1; batch 0 of 1.
		{"change-failure-by-service", nil, []string{"service", "deployments", "failed_deployments", "change_failure_rate"},
			[]string{"api|2|1|0.5", "batch|1|0|0", "web|1|0|0"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.query, tt.params), func(t *testing.T) {
			tab, err := Run(context.Background(), db, tt.query, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			idx := make([]int, len(tt.cols))
			for i, c := range tt.cols {
				idx[i] = -1
				for j, have := range tab.Columns {
					if have == c {
						idx[i] = j
					}
				}
				if idx[i] < 0 {
					t.Fatalf("no column %s in %v", c, tab.Columns)
				}
			}
			var got []string
			for _, r := range tab.Rows {
				cells := make([]string, len(idx))
				for i, j := range idx {
					cells[i] = text(r[j])
				}
				got = append(got, strings.Join(cells, "|"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprintf("%q", text(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", x), "0"), ".")
	}
	return fmt.Sprint(v)
}
