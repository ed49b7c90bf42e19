package count

// group is a number of identical ballots, as published examples give them.
type group[B any] struct {
	n int
	b B
}

func expand[B any](gs []group[B]) []B {
	var out []B
	for _, g := range gs {
		for range g.n {
			out = append(out, g.b)
		}
	}
	return out
}

// letters turns "ACBED" into a Ranking of candidates A=0, B=1, ….
func letters(s string) Ranking {
	r := make(Ranking, len(s))
	for i, ch := range s {
		r[i] = int(ch - 'A')
	}
	return r
}
