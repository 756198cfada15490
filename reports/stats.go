package reports

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// sample keeps every value of a statistic whose exact percentiles are
// needed (nearest rank: sort ascending, P(k) = v[ceil(k/100·n)]).
type sample struct{ v []float64 }

func (s *sample) add(v float64) { s.v = append(s.v, v) }

// percentile is the nearest-rank k-th percentile, nil for an empty sample.
func (s *sample) percentile(k float64) any {
	n := len(s.v)
	if n == 0 {
		return nil
	}
	if !slices.IsSorted(s.v) {
		slices.Sort(s.v)
	}
	rank := int(math.Ceil(k / 100 * float64(n)))
	return s.v[max(rank, 1)-1]
}

// mean is the average, nil for an empty sample.
func (s *sample) mean() any {
	if len(s.v) == 0 {
		return nil
	}
	var sum float64
	for _, v := range s.v {
		sum += v
	}
	return sum / float64(len(s.v))
}

// rankedKeys returns the keys of m, largest count first, ties in byte order
// of the key (the same on every back end, whatever its collation).
func rankedKeys[V any](m map[string]V, count func(V) int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ca, cb := count(m[a]), count(m[b]); ca != cb {
			return cmp.Compare(cb, ca)
		}
		return strings.Compare(a, b)
	})
	return keys
}
