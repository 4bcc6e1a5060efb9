package metrics

// FrequencyBasis says which figure a deployment frequency tier rests on,
// by the rule of tierDeployFrequency: a tier whose lower bound is at least
// one day a week compares deployment days in the median week ("median");
// one below it — and "low", which failed the last bound — compares the
// mean days per week when that bound is below one day ("mean"). bounds
// are the benchmark set's lower bounds (elite, high, medium).
func FrequencyBasis(bounds []float64, tier string) string {
	for i, name := range tierNames[:len(tierNames)-1] {
		if i < len(bounds) && name == tier {
			if bounds[i] < 1 {
				return "mean"
			}
			return "median"
		}
	}
	if tier == tierNames[len(tierNames)-1] && len(bounds) > 0 && bounds[len(bounds)-1] < 1 {
		return "mean"
	}
	return "median"
}
