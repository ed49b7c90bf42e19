package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1536MiB", 1536 << 20, true}, {"2GiB", 2 << 30, true}, {"512KiB", 512 << 10, true}, {"4096", 4096, true},
		{"", 0, false}, {"-1", 0, false}, {"1.5GiB", 0, false}, {"12XB", 0, false}, {"GiB", 0, false}, {"9999999999999GiB", 0, false}, {"1 GiB", 0, false},
	} {
		got, err := parseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
