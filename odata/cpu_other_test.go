//go:build !unix

package odata_test

import "time"

// processCPU is not measured here: the CPU metric of the benchmarks reads 0.
func processCPU() time.Duration { return 0 }
