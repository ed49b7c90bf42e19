package count

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// widestBrute is the strength of the strongest path from i to j by
// enumerating every simple path (Schulze's definition), for small n.
func widestBrute(d [][]int64, i, j int) int64 {
	n := len(d)
	link := func(a, b int) int64 {
		if d[a][b] > d[b][a] {
			return d[a][b]
		}
		return 0
	}
	var best int64
	visited := make([]bool, n)
	var walk func(at int, strength int64)
	walk = func(at int, strength int64) {
		if at == j {
			best = max(best, strength)
			return
		}
		visited[at] = true
		for next := range n {
			if !visited[next] {
				if s := min(strength, link(at, next)); s > 0 {
					walk(next, s)
				}
			}
		}
		visited[at] = false
	}
	walk(i, int64(1)<<62)
	return best
}

func TestSchulzeMatchesPathEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 1000 {
		n := 2 + r.IntN(5)
		res, err := Schulze(n, randomRanks(r, n, r.IntN(30)), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			for j := range n {
				if i != j && res.P[i][j] != widestBrute(res.D, i, j) {
					t.Fatalf("p[%d][%d] = %d, paths give %d (d %v)", i, j, res.P[i][j], widestBrute(res.D, i, j), res.D)
				}
			}
		}
	}
}

// stvRat is a second, deliberately plain reading of rules 45-52 with
// math/big.Rat and truncation to five decimals done on rationals; it
// returns the elected candidates and each stage's totals.
func stvRat(candidates, seats int, ballots []Ranking, lotPos []int) ([]int, [][]*big.Rat) {
	trunc5 := func(x *big.Rat) *big.Rat {
		q := new(big.Int).Mul(x.Num(), big.NewInt(100000))
		q.Quo(q, x.Denom()) // x ≥ 0
		return new(big.Rat).SetFrac(q, big.NewInt(100000))
	}
	quota := new(big.Rat).SetInt64(int64(len(ballots)/(seats+1) + 1))
	type paper struct {
		b   Ranking
		pos int
		val *big.Rat
	}
	papers := make([]*paper, len(ballots))
	holder := make([]int, len(ballots))
	st := make([]int, candidates) // 0 continuing, 1 elected, 2 excluded
	done := make([]bool, candidates)
	votes := func() []*big.Rat {
		v := make([]*big.Rat, candidates)
		for c := range v {
			v[c] = new(big.Rat)
		}
		for i, p := range papers {
			if holder[i] >= 0 {
				v[holder[i]].Add(v[holder[i]], p.val)
			}
		}
		return v
	}
	for i, b := range ballots {
		papers[i] = &paper{b, 0, big.NewRat(1, 1)}
		holder[i] = b[0]
	}
	var elected []int
	var history [][]*big.Rat
	hist64 := func() [][]int64 {
		var h [][]int64
		for _, s := range history {
			row := make([]int64, candidates)
			for c, v := range s {
				f, _ := new(big.Rat).Mul(v, big.NewRat(100000, 1)).Float64()
				row[c] = int64(f + 0.5)
			}
			h = append(h, row)
		}
		return h
	}
	move := func(i int, val *big.Rat) {
		p := papers[i]
		k := p.pos + 1
		for k < len(p.b) && st[p.b[k]] != 0 {
			k++
		}
		p.pos = k
		if k == len(p.b) {
			holder[i] = -1
			return
		}
		holder[i] = p.b[k]
		p.val = val
	}
	for {
		v := votes()
		// An elected candidate after its surplus holds exactly the quota.
		for c := range candidates {
			if st[c] == 1 && done[c] {
				v[c] = new(big.Rat).Set(quota)
			}
		}
		history = append(history, v)
		var reached []int
		for c := range candidates {
			if st[c] == 0 && v[c].Cmp(quota) >= 0 {
				reached = append(reached, c)
			}
		}
		slices.SortFunc(reached, func(a, b int) int {
			if x := v[b].Cmp(v[a]); x != 0 {
				return x
			}
			return lotPos[a] - lotPos[b]
		})
		for _, c := range reached {
			st[c] = 1
			done[c] = v[c].Cmp(quota) == 0
			elected = append(elected, c)
		}
		var cont []int
		for c := range candidates {
			if st[c] == 0 {
				cont = append(cont, c)
			}
		}
		if len(elected) == seats {
			return elected, history
		}
		if len(cont) <= seats-len(elected) {
			slices.SortFunc(cont, func(a, b int) int {
				if x := v[b].Cmp(v[a]); x != 0 {
					return x
				}
				return lotPos[a] - lotPos[b]
			})
			return append(elected, cont...), history
		}
		var top []int
		for c := range candidates {
			if st[c] == 1 && !done[c] {
				if len(top) == 0 || v[c].Cmp(v[top[0]]) > 0 {
					top = []int{c}
				} else if v[c].Cmp(v[top[0]]) == 0 {
					top = append(top, c)
				}
			}
		}
		if len(top) > 0 {
			e := top[0]
			if len(top) > 1 {
				e, _ = breakTie(top, hist64(), false, lotPos)
			}
			total := v[e]
			surplus := new(big.Rat).Sub(total, quota)
			for i, p := range papers {
				if holder[i] == e {
					tv := trunc5(new(big.Rat).Quo(new(big.Rat).Mul(surplus, p.val), total))
					move(i, tv)
				}
			}
			// Papers e keeps are none: all passed on or set aside; record quota.
			done[e] = true
			continue
		}
		var low []int
		for _, c := range cont {
			if len(low) == 0 || v[c].Cmp(v[low[0]]) < 0 {
				low = []int{c}
			} else if v[c].Cmp(v[low[0]]) == 0 {
				low = append(low, c)
			}
		}
		x := low[0]
		if len(low) > 1 {
			x, _ = breakTie(low, hist64(), true, lotPos)
		}
		st[x] = 2
		for i, p := range papers {
			if holder[i] == x {
				move(i, p.val)
			}
		}
	}
}

func TestSTVMatchesRationalReading(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for range 1500 {
		n := 1 + r.IntN(6)
		seats := 1 + r.IntN(n)
		ballots := randomRankings(r, n, r.IntN(40))
		lot := LotFromSeed([]byte{byte(n), 2}, n)
		lotPos, _ := lot.positions(n)
		res, err := STV(n, seats, ballots, lot)
		if err != nil {
			t.Fatal(err)
		}
		wantElected, hist := stvRat(n, seats, ballots, lotPos)
		if !slices.Equal(res.Elected, wantElected) || len(res.Stages) != len(hist) {
			t.Fatalf("elected %v in %d stages, rational reading %v in %d; ballots %v seats %d",
				res.Elected, len(res.Stages), wantElected, len(hist), ballots, seats)
		}
		for s, row := range hist {
			for c, v := range row {
				want := new(big.Rat).Mul(v, big.NewRat(100000, 1))
				if !want.IsInt() || want.Num().Int64() != int64(res.Stages[s].Votes[c]) {
					t.Fatalf("stage %d candidate %d: %v, rational reading %s", s+1, c, res.Stages[s].Votes[c], v.FloatString(5))
				}
			}
		}
	}
}
