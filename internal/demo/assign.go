package demo

import (
	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/ballot/credential"
)

// Entries returns the ballot style and weight of each of the demo's
// voters. A configuration with a voter list gives its voters as they are
// (their number is the list's); otherwise n voters are split over the
// ballot styles in the proportions of the configuration's assignment (its
// counts per style), each style of a non-zero count getting at least one
// voter when n allows, every weight 1.
func Entries(a *config.Assignment, n int) []credential.Entry {
	if a.ListFile != "" {
		out := make([]credential.Entry, len(a.Voters))
		for i, v := range a.Voters {
			out[i] = credential.Entry{Style: v.Style, Weight: v.Weight}
		}
		return out
	}
	// The counts per style, in the assignment's order.
	var styles []string
	counts := map[string]int{}
	for _, v := range a.Voters {
		if counts[v.Style] == 0 {
			styles = append(styles, v.Style)
		}
		counts[v.Style]++
	}
	total := len(a.Voters)
	share := make([]int, len(styles))
	given := 0
	for i, s := range styles {
		share[i] = n * counts[s] / total
		if share[i] == 0 && n >= len(styles) {
			share[i] = 1
		}
		given += share[i]
	}
	// The rest goes to the largest styles first; an excess is taken from
	// them too.
	for i := 0; given != n; i = (i + 1) % len(styles) {
		switch {
		case given < n:
			share[i]++
			given++
		case share[i] > 1:
			share[i]--
			given--
		}
	}
	var out []credential.Entry
	for i, s := range styles {
		for range share[i] {
			out = append(out, credential.Entry{Style: s, Weight: 1})
		}
	}
	return out
}
