package reports

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// roundRat is the reference: the exact rational x rounded half away from
// zero to d decimal places, computed in big.Rat.
func roundRat(x *big.Rat, d int) float64 {
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil))
	y := new(big.Rat).Mul(new(big.Rat).Abs(x), scale)
	y.Add(y, big.NewRat(1, 2))
	n := new(big.Int).Quo(y.Num(), y.Denom()) // floor(|x|·10^d + ½)
	r := new(big.Rat).SetFrac(n, scale.Num())
	if x.Sign() < 0 {
		r.Neg(r)
	}
	f, _ := r.Float64()
	return f
}

func TestRoundHalves(t *testing.T) {
	for _, c := range []struct {
		name string
		v    float64
		d    int
		want float64
	}{
		{"23/80·100 (28.749999999999996 in binary)", float64(23) / float64(80) * 100, 1, 28.8},
		{"28.75 written", 28.75, 1, 28.8},
		{"-28.75", -float64(23) / float64(80) * 100, 1, -28.8},
		{"just below the half", 28.7499, 1, 28.7},
		{"just below the half, 14 digits", 28.749999999999, 1, 28.7},
		{"0.35 s (0.34999999999999998 in binary)", float64(700) / 1000 / 2, 1, 0.4},
		{"0.3499 s", 0.3499, 1, 0.3},
		{"161/40 rating (4.0249999999999995 in binary)", float64(161) / float64(40), 2, 4.03},
		{"4.02499", 4.02499, 2, 4.02},
		{"1.005", 1.005, 2, 1.01},
		{"2.675", 2.675, 2, 2.68},
		{"0.05 to 1 dp", 0.05, 1, 0.1},
		{"0.04999", 0.04999, 1, 0},
		{"0.5 to an integer", 0.5, 0, 1},
		{"-0.5 to an integer", -0.5, 0, -1},
		{"2.5 to an integer", 2.5, 0, 3},
		{"0.0004 to 2 dp", 0.0004, 2, 0},
		{"0.005 to 2 dp", 0.005, 2, 0.01},
		{"1234567.25", 1234567.25, 1, 1234567.3},
		{"whole", 100, 1, 100},
		{"zero", 0, 1, 0},
		{"huge", 1e300, 1, 1e300},
	} {
		if got := Round(c.v, c.d); got != c.want {
			t.Errorf("%s: Round(%v, %d) = %v, want %v", c.name, c.v, c.d, got, c.want)
		}
	}
}

// TestRoundRatios compares Round with exact rational rounding for the
// values reports compute: percentages num/den·100 (1 dp), means of ratings
// sum/n (2 dp) and mean durations ms/1000/n (1 dp), each computed in
// float64 the way the engine does. Every value that is exactly a half is
// among them, and so are the values next to it.
func TestRoundRatios(t *testing.T) {
	halves := 0
	check := func(what string, f float64, exact *big.Rat, d int) {
		t.Helper()
		want := roundRat(exact, d)
		if got := Round(f, d); got != want {
			t.Fatalf("%s = %s: Round(%v, %d) = %v, want %v", what, exact.FloatString(12), f, d, got, want)
		}
		ten := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d+1)), nil))
		if x := new(big.Rat).Mul(exact, ten); x.IsInt() && new(big.Int).Rem(x.Num(), big.NewInt(10)).Int64() == 5 {
			halves++
		}
	}
	for den := int64(1); den <= 400; den++ {
		for num := int64(0); num <= den; num++ {
			check("pct", float64(num)/float64(den)*100, big.NewRat(num*100, den), 1)
		}
		for sum := den; sum <= 5*den; sum++ {
			check("rating", float64(sum)/float64(den), big.NewRat(sum, den), 2)
		}
	}
	for n := int64(1); n <= 40; n++ {
		for ms := int64(0); ms <= 20000; ms += 7 {
			check("seconds", float64(ms)/1000/float64(n), big.NewRat(ms, 1000*n), 1)
		}
	}
	if halves < 1000 {
		t.Fatalf("only %d values sat on a half", halves)
	}
}

// TestRoundClearAgreesWithDecimal: the arithmetic fast path of Round gives
// the decimal reading's answer wherever it answers, over random values of
// every magnitude it takes (and values a hair from a half, which it must
// leave to the decimal reading or get right).
func TestRoundClearAgreesWithDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	answered := 0
	for i := 0; i < 2_000_000; i++ {
		d := rng.IntN(7)
		v := math.Pow(10, rng.Float64()*9-1) // 0.1 to 10^8
		switch i % 4 {
		case 1: // a decimal with d+1 digits ending in 5, or one ulp off it
			u := math.Pow(10, float64(-d-1))
			v = (math.Floor(v/u/10)*10 + 5) * u
			v = math.Nextafter(v, v+float64(rng.IntN(3)-1))
		case 2: // a ratio, as the engine computes them
			v = float64(rng.IntN(100_000)) / float64(1+rng.IntN(999)) * 100
		}
		if rng.IntN(2) == 0 {
			v = -v
		}
		got, ok := roundClear(v, d)
		if !ok {
			continue
		}
		answered++
		if want := roundDecimal(v, d); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("Round(%v, %d): fast %v, decimal %v", v, d, got, want)
		}
	}
	if answered < 800_000 {
		t.Fatalf("the fast path answered only %d of 2,000,000", answered)
	}
}

// TestAppendTimeMatchesFormat: the hand-written RFC 3339 text is
// time.Format's, with and without milliseconds, in UTC, in zones east and
// west, with half-hour and DST offsets, and in a zone whose old offset has
// seconds (where it falls back to time.Format).
func TestAppendTimeMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var zones []*time.Location
	for _, name := range []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London", "Pacific/Chatham", "America/St_Johns", "Europe/Amsterdam"} {
		z, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, z)
	}
	zones = append(zones, time.FixedZone("west", -(9*3600+30*60)))
	for i := 0; i < 200_000; i++ {
		at := time.Unix(rng.Int64N(5_000_000_000)-2_500_000_000, 0) // 1890 to 2128
		switch i % 3 {
		case 1:
			at = at.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		case 2:
			at = at.Add(time.Duration(rng.IntN(1_000_000_000)))
		}
		at = at.In(zones[i%len(zones)])
		want := at.Format("2006-01-02T15:04:05Z07:00")
		if at.Nanosecond()/int(time.Millisecond) != 0 {
			want = at.Format("2006-01-02T15:04:05.000Z07:00")
		}
		if got := FormatTime(at); got != want {
			t.Fatalf("%v: %s, want %s", at, got, want)
		}
	}
}
