// Package cpubreak splits the CPU samples of Go profiles into the
// components of an authority node (docs/benchmarks.md, "Where a node's CPU
// goes"): each sample goes to the first component, in order, that has a
// function of its stack. `make bench` runs it on the profiles of the
// cluster benchmark's four nodes.
package cpubreak

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"time"

	"github.com/google/pprof/profile"
)

// Component is a part of a node's work, recognised by the functions on a
// sample's stack.
type Component struct {
	Name  string
	Match *regexp.Regexp
}

// Components in the order samples are attributed: the first that matches
// a function of the stack takes the sample.
var Components = []Component{
	{"ballot proofs and signatures (batched verification)", regexp.MustCompile(`^github\.com/evote/evote/(chain\.verifyBatch|chain\.\(\*ballotBatcher\)|rules\.VerifyInspected|rules\.VerifyBatch|rules\.InspectCast|crypto\.)`)},
	{"rules: executing transactions, app hash", regexp.MustCompile(`^github\.com/evote/evote/(rules|chain)\.`)},
	{"storage (Pebble, PostgreSQL)", regexp.MustCompile(`^github\.com/(cockroachdb/pebble|jackc/pgx)|^github\.com/evote/evote/chain/store`)},
	{"consensus (CometBFT state machine, votes, blocks)", regexp.MustCompile(`^github\.com/cometbft/cometbft/(internal/consensus|state|types|internal/blocksync|store)`)},
	{"mempool and p2p gossip", regexp.MustCompile(`^github\.com/cometbft/cometbft/(mempool|p2p|internal/mempool)`)},
	{"voters' websockets and web API", regexp.MustCompile(`^github\.com/(evote/evote/web|gorilla/websocket)`)},
	{"CometBFT RPC (tally service, tools)", regexp.MustCompile(`^github\.com/cometbft/cometbft/rpc`)},
	{"garbage collection", regexp.MustCompile(`^runtime\.(gcBgMarkWorker|gcDrain|bgsweep|bgscavenge|markroot|scanobject)`)},
	{"Go scheduler, timers, network polling", regexp.MustCompile(`^runtime\.(schedule|findRunnable|mcall|park_m|netpoll|sysmon|goexit0|notetsleep|timerproc|runqgrab)`)},
}

// Other names the samples no component takes.
const Other = "other"

// Share is a component's CPU time in a set of profiles.
type Share struct {
	Name string
	CPU  time.Duration
}

// Split reads CPU profiles and returns the CPU time of each component (in
// Components' order, then Other) and the total.
func Split(files []string) ([]Share, time.Duration, error) {
	sums := make([]time.Duration, len(Components)+1)
	var total time.Duration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, 0, err
		}
		p, err := profile.Parse(fh)
		fh.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("cpubreak: %s: %w", f, err)
		}
		vi := -1
		for i, st := range p.SampleType {
			if st.Type == "cpu" && st.Unit == "nanoseconds" {
				vi = i
			}
		}
		if vi < 0 {
			return nil, 0, fmt.Errorf("cpubreak: %s is not a CPU profile", f)
		}
		for _, s := range p.Sample {
			d := time.Duration(s.Value[vi])
			total += d
			sums[component(s)] += d
		}
	}
	out := make([]Share, len(sums))
	for i := range Components {
		out[i] = Share{Components[i].Name, sums[i]}
	}
	out[len(Components)] = Share{Other, sums[len(Components)]}
	return out, total, nil
}

// component returns the index of the sample's component, or
// len(Components) for Other.
func component(s *profile.Sample) int {
	best := len(Components)
	for _, loc := range s.Location {
		for _, l := range loc.Line {
			if l.Function == nil {
				continue
			}
			for i := 0; i < best; i++ {
				if Components[i].Match.MatchString(l.Function.Name) {
					best = i
					break
				}
			}
		}
	}
	return best
}

// WriteTable writes the shares as a Markdown table, largest first, with
// each per committed ballot and node when ballots > 0 (the profiles being
// those of nodes nodes).
func WriteTable(w io.Writer, shares []Share, total time.Duration, ballots, nodes int) {
	sorted := append([]Share(nil), shares...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].CPU > sorted[j].CPU })
	fmt.Fprintln(w, "| component | CPU | share | per committed ballot, per node |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, s := range sorted {
		fmt.Fprintf(w, "| %s | %.2f s | %.1f %% | %s |\n", s.Name, s.CPU.Seconds(), 100*float64(s.CPU)/float64(max(total, 1)), perBallot(s.CPU, ballots, nodes))
	}
	fmt.Fprintf(w, "| total | %.2f s | 100 %% | %s |\n", total.Seconds(), perBallot(total, ballots, nodes))
}

func perBallot(d time.Duration, ballots, nodes int) string {
	if ballots <= 0 || nodes <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(ballots)/float64(nodes))
}
