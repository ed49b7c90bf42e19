package main

import (
	"strings"
	"testing"
)

// TestClusterRows: the loopback and the WAN cluster lines, in either
// order, each give their own rows.
func TestClusterRows(t *testing.T) {
	lines := []string{
		"BenchmarkClusterCast/nodes=4/selections=10/clients=384 \t 1 \t 15000000000 ns/op \t 330.0 ballots/s \t 350.0 sustained-ballots/s \t 1200000000 p50-ns \t 1700000000 p99-ns",
		"BenchmarkClusterCastWAN/nodes=4/delay=50ms/selections=10/clients=384 \t 1 \t 9000000000 ns/op \t 220.0 ballots/s \t 240.0 sustained-ballots/s \t 1500000000 p50-ns \t 2100000000 p99-ns",
		"BenchmarkVerifySelection-2 \t 100 \t 455000 ns/op",
		"BenchmarkVerifySelectionBatch/n=1000/workers=1-2 \t 10 \t 61000 ns/proof",
	}
	for _, in := range []string{strings.Join(lines, "\n"), strings.Join([]string{lines[3], lines[1], lines[2], lines[0]}, "\n")} {
		res, _ := parse(strings.NewReader(in))
		for _, c := range []struct {
			name, unit string
			want       float64
		}{
			{"BenchmarkClusterCast", "ballots/s", 330},
			{"BenchmarkClusterCast", "p99-ns", 1.7e9},
			{"BenchmarkClusterCastWAN", "ballots/s", 220},
			{"BenchmarkClusterCastWAN", "sustained-ballots/s", 240},
			{"BenchmarkClusterCastWAN", "p50-ns", 1.5e9},
			{"BenchmarkVerifySelection", "ns/op", 455000},
			{"BenchmarkVerifySelectionBatch/n=1000/workers=1", "ns/proof", 61000},
		} {
			if v, ok := findMetric(res, c.name, c.unit); !ok || v != c.want {
				t.Errorf("%s %s = %v, %v; want %v", c.name, c.unit, v, ok, c.want)
			}
		}
		if _, ok := findMetric(res, "BenchmarkVerifySelection", "ns/proof"); ok {
			t.Error("BenchmarkVerifySelection took the ns/proof of BenchmarkVerifySelectionBatch")
		}
	}
}
