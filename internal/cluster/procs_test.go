package cluster

import "testing"

func TestProcs(t *testing.T) {
	for _, c := range []struct{ cpus, nodes, want int }{
		{2, 4, 1}, {8, 4, 2}, {16, 4, 4}, {1, 1, 1}, {4, 1, 4}, {4, 0, 4}, {3, 2, 1},
	} {
		if got := Procs(c.cpus, c.nodes); got != c.want {
			t.Errorf("Procs(%d cores, %d nodes) = %d, want %d", c.cpus, c.nodes, got, c.want)
		}
	}
}
