package demo

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"time"
)

// Small helpers over math/rand/v2. Every draw comes from a PCG stream seeded
// by the options and the repository index, so one repository's history does
// not depend on how many came before it.

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// poisson draws a Poisson count (Knuth's method; λ is small here).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		if n < 0 {
			return 0
		}
		return n
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// lognormal draws a duration with the given median in hours; sigma spreads it.
func lognormal(r *rand.Rand, medianH, sigma float64) time.Duration {
	h := medianH * math.Exp(sigma*r.NormFloat64())
	return hours(h)
}

func hours(h float64) time.Duration {
	return time.Duration(h * float64(time.Hour)).Truncate(time.Second)
}

// between draws a duration uniformly in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return (lo + time.Duration(r.Int64N(int64(hi-lo)))).Truncate(time.Second)
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// weighted returns an index drawn with the given weights.
func weighted(r *rand.Rand, w ...float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	v := r.Float64() * total
	for i, x := range w {
		if v < x {
			return i
		}
		v -= x
	}
	return len(w) - 1
}

func newSHA(r *rand.Rand) string {
	var b [20]byte
	for i := 0; i < 20; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < 20; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

func isWeekend(t time.Time) bool {
	wd := t.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
