package metrics

import "testing"

// The dora-2023 bounds are 5, 1 and 0.25 days a week: elite and high rest
// on the median week, medium and low on the mean (0.25 < 1).
func TestFrequencyBasis(t *testing.T) {
	bounds := []float64{5, 1, 0.25}
	for tier, want := range map[string]string{"elite": "median", "high": "median", "medium": "mean", "low": "mean", "": "median"} {
		if got := FrequencyBasis(bounds, tier); got != want {
			t.Errorf("FrequencyBasis(%v, %q) = %q, want %q", bounds, tier, got, want)
		}
	}
	// A set whose bounds are all a day or more never uses the mean.
	for _, tier := range []string{"elite", "high", "medium", "low"} {
		if got := FrequencyBasis([]float64{5, 3, 1}, tier); got != "median" {
			t.Errorf("bounds 5,3,1, tier %s: %q, want median", tier, got)
		}
	}
	// The rule it describes: tier medium with median 0 and mean 0.5.
	v := func(string) (float64, bool) { return 0, true }
	if got := tierDeployFrequency(bounds, v, 0.5, 3); got != "medium" {
		t.Errorf("tierDeployFrequency: %v, want medium", got)
	}
	if got := tierDeployFrequency(bounds, v, 0.2, 1); got != "low" {
		t.Errorf("tierDeployFrequency: %v, want low", got)
	}
}
