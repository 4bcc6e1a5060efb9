package metrics

import "testing"

// Every column Compute returns says what it means, so no format has to
// guess: a new column fails here until it is described.
func TestEveryColumnHasAKind(t *testing.T) {
	for _, c := range Columns {
		if _, ok := ColumnKinds[c]; !ok {
			t.Errorf("column %s has no kind in ColumnKinds", c)
		}
	}
	for metric, cols := range ExplainPrimary {
		for _, c := range cols {
			if _, ok := ColumnKinds[c]; !ok {
				t.Errorf("explain %s: primary column %s has no kind", metric, c)
			}
		}
	}
}
