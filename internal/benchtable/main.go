// Command benchtable turns the output of `go test -bench` into the table of
// evote's headline figures (docs/benchmarks.md), with ratios against the
// baselines measured in the same run. It is run by `make bench`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// result is one benchmark line: its metrics by unit.
type result map[string]float64

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (map[string]result, string) {
	out := map[string]result{}
	cpu := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		s := sc.Text()
		if strings.HasPrefix(s, "cpu: ") {
			cpu = strings.TrimPrefix(s, "cpu: ")
		}
		m := line.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		res := result{}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				res[f[i+1]] = v
			}
		}
		out[m[1]] = res
	}
	return out, cpu
}

// row describes one figure of the table.
type row struct {
	what  string
	bench string
	unit  string // metric to show
	base  string // benchmark whose ns/op the figure is divided by, for the ratio column
	note  string
}

var rows = []row{
	{"group: variable-base scalar multiplication (circl Mul)", "BenchmarkGroupMul", "ns/op", "", "baseline"},
	{"group: fixed-base scalar multiplication (MulGen)", "BenchmarkGroupMulGen", "ns/op", "BenchmarkGroupMul", ""},
	{"group: multiplication by the election key with its fixed-base table", "BenchmarkFixedBaseMul", "ns/op", "BenchmarkGroupMul", ""},
	{"encrypt one selection with its 0/1 proof", "BenchmarkEncryptSelection", "ns/op", "BenchmarkGroupMul", "target ≤ 4 × GroupMul"},
	{"verify one 0/1 proof singly", "BenchmarkVerifySelection", "ns/op", "BenchmarkGroupMul", ""},
	{"verify 0/1 proofs in batches of 1,000, one core (per proof)", "BenchmarkVerifySelectionBatch/n=1000/workers=1", "ns/proof", "BenchmarkVerifySelection", "target ≤ 0.25 of single"},
	{"verify 0/1 proofs in batches of 1,000, all cores (per proof)", "BenchmarkVerifySelectionBatch/n=1000/workers=2", "ns/proof", "BenchmarkVerifySelection", ""},
	{"decode + verify 0/1 proofs in batches of 1,000, one core (per proof)", "BenchmarkVerifySelectionDecodeBatch", "ns/proof", "BenchmarkVerifySelection", ""},
	{"multi-scalar multiplication, 8,192 terms (per term)", "BenchmarkMSM/n=8192", "ns/term", "BenchmarkGroupMul", ""},
	{"partial decryption with proof (per ciphertext)", "BenchmarkPartialDecrypt", "ns/ciphertext", "BenchmarkGroupMul", ""},
	{"combine 2 of 3 shares (per ciphertext)", "BenchmarkCombine", "ns/ciphertext", "BenchmarkGroupMul", ""},
	{"discrete log table for totals up to 10^6", "BenchmarkDlogTable1e6", "ns/op", "", ""},
	{"discrete log table for totals up to 10^7", "BenchmarkDlogTable1e7", "ns/op", "", ""},
	{"discrete log of a total up to 10^6", "BenchmarkDlogSolve1e6", "ns/op", "", ""},
	{"discrete log of a total up to 10^7", "BenchmarkDlogSolve1e7", "ns/op", "", ""},
	{"key ceremony: verify a dealing (n=3, k=2)", "BenchmarkVerifyDealing", "ns/op", "", ""},
	{"encrypt a 10-contest, 30-selection ballot", "BenchmarkEncryptBallot10x3", "ns/op", "", ""},
	{"verify that ballot, each proof singly", "BenchmarkVerifyBallot10x3/each", "ns/op", "", ""},
	{"verify that ballot, batched", "BenchmarkVerifyBallot10x3/batched", "ns/op", "BenchmarkVerifyBallot10x3/each", ""},
	{"verify a block of 100 such ballots, one core (per ballot)", "BenchmarkVerifyBlock10x3", "ns/ballot", "BenchmarkVerifyBallot10x3/each", ""},
	{"derive a voter credential (Argon2id, 19 MiB, t=2)", "BenchmarkDeriveDefault", "ns/op", "", ""},
	{"shuffle: re-encrypt, permute and prove 10,000 rows of 5 ciphertexts, one core (per ciphertext)", "BenchmarkShuffleProve/N=10000/w=5", "ns/ciphertext", "", "target ≤ 100 µs"},
	{"shuffle: verify that proof, batched, one core (per ciphertext)", "BenchmarkShuffleVerify/N=10000/w=5", "ns/ciphertext", "", "target ≤ 60 µs"},
	{"count 100,000 ranked ballots of 10 candidates by IRV", "BenchmarkIRV", "ns/op", "", ""},
	{"the same by Scottish STV, 3 seats", "BenchmarkSTV3Seats", "ns/op", "", ""},
	{"the same by Condorcet–Schulze", "BenchmarkSchulze", "ns/op", "", ""},
	{"count 100,000 graded ballots (6 grades) by majority judgment", "BenchmarkMajorityJudgment", "ns/op", "", ""},
	{"rules: fold one accepted 30-selection ballot into the totals, weight 1", "BenchmarkFoldBallot/weight=1", "ns/op", "", "baseline"},
	{"rules: the same, weight 12", "BenchmarkFoldBallot/weight=12", "ns/op", "BenchmarkFoldBallot/weight=1", ""},
	{"rules: the same, weight 2^40 − 1 (the largest)", "BenchmarkFoldBallot/weight=1099511627775", "ns/op", "BenchmarkFoldBallot/weight=1", ""},
	{"store: commit a block of 1,000 writes, Pebble", "BenchmarkCommit1000Writes/pebble", "ns/op", "", ""},
	{"store: commit a block of 1,000 writes, PostgreSQL", "BenchmarkCommit1000Writes/postgres", "ns/op", "", ""},
	{"chain: finalise a block of 100 ballots, 17 selections (per ballot)", "BenchmarkBlock100Ballots/finalize", "ns/ballot", "", ""},
	{"chain: admit one voter's such ballot at its node (VerifyBallot + CheckTx)", "BenchmarkBlock100Ballots/checktx", "ns/op", "", ""},
	{"chain: CheckTx of such a ballot gossiped by a peer (signature and state; proofs in its block)", "BenchmarkBlock100Ballots/checktx-gossiped", "ns/op", "BenchmarkBlock100Ballots/checktx", ""},
	{"chain: CheckTx of 100 such ballots called concurrently, as a node does, one core (per ballot)", "BenchmarkBlock100Ballots/checktx-concurrent", "ns/ballot", "BenchmarkBlock100Ballots/checktx", "shared batches"},
	{"tally: apply a block of 1,000 ten-selection ballots with the rules, proofs verified in one batch (per ballot)", "BenchmarkBlocks1000", "µs/ballot", "", "µs"},
	{"tally: decrypt (2 of 3) and solve 10 totals up to 10^6", "BenchmarkDecryptSolve1e6", "ns/op", "", ""},
	{"verify a record of ten-selection ballots, both cores (per selection)", "BenchmarkVerify100k", "µs/selection", "BenchmarkVerifySelectionBatch/n=1000/workers=2:ns/proof", "µs; target ≤ 1.5 × batched proof, both cores"},
	{"browser: encrypt, prove and sign a 10-selection ballot in headless Chromium (WebAssembly)", "BenchmarkBrowserEncrypt10", "ns/op", "", "target ≤ 200 ms"},
	{"browser: gzip size of evote.wasm (bytes)", "BenchmarkWasmGzipSize", "gzip-bytes", "", "count, not time; target ≤ 1.5 MB"},
	{"rules: verify 100 signed casts of the cluster's ten-selection ballot from their bytes, one batch, one core (per ballot)", "BenchmarkVerifyCasts10", "ns/ballot", "", "baseline of the node CPU row"},
	{"4-node cluster: node CPU per committed ballot and node, while the voters cast", "BenchmarkClusterCast", "node-cpu-ns/ballot", "BenchmarkVerifyCasts10:ns/ballot", "target ≤ 1.3 × verifying the ballot"},
	{"4-node cluster: committed ten-selection ballots per second, whole run", "BenchmarkClusterCast", "ballots/s", "", "count, not time; target ≥ 300"},
	{"4-node cluster: the same, sustained (10th to 90th percentile of receipt arrivals)", "BenchmarkClusterCast", "sustained-ballots/s", "", "count, not time"},
	{"4-node cluster: committed-receipt latency p50", "BenchmarkClusterCast", "p50-ns", "", ""},
	{"4-node cluster: committed-receipt latency p99", "BenchmarkClusterCast", "p99-ns", "", "target < 3 s"},
	{"4-node cluster, state in PostgreSQL: committed ballots per second, whole run", "BenchmarkClusterCastPG", "ballots/s", "BenchmarkClusterCast:ballots/s", "count, not time; target ≥ 0.9 × the embedded store"},
	{"4-node cluster, PostgreSQL: the same, sustained", "BenchmarkClusterCastPG", "sustained-ballots/s", "BenchmarkClusterCast:sustained-ballots/s", "count, not time"},
	{"4-node cluster, PostgreSQL: committed-receipt latency p99", "BenchmarkClusterCastPG", "p99-ns", "", ""},
	{"4-node cluster, PostgreSQL: node CPU per committed ballot and node", "BenchmarkClusterCastPG", "node-cpu-ns/ballot", "BenchmarkVerifyCasts10:ns/ballot", ""},
	{"4-node cluster, p2p links delayed 50 ms each way (WAN): committed ballots per second, whole run", "BenchmarkClusterCastWAN", "ballots/s", "", "count, not time"},
	{"4-node cluster, WAN: the same, sustained", "BenchmarkClusterCastWAN", "sustained-ballots/s", "", "count, not time"},
	{"4-node cluster, WAN: committed-receipt latency p50", "BenchmarkClusterCastWAN", "p50-ns", "", ""},
	{"4-node cluster, WAN: committed-receipt latency p99", "BenchmarkClusterCastWAN", "p99-ns", "", ""},
}

func human(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func main() {
	in := flag.String("in", "bench.out", "go test -bench output")
	out := flag.String("out", "", "also write the table to this markdown file")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	defer f.Close()
	res, cpu := parse(f)
	var b strings.Builder
	fmt.Fprintf(&b, "# evote benchmarks\n\nMeasured by `make bench` on %s (%s, %d cores, %s/%s), %s.\n",
		cpu, runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Ratios divide by a baseline measured in the same run.\n\n")
	fmt.Fprintf(&b, "| figure | time | ratio | note |\n| --- | --- | --- | --- |\n")
	for _, r := range rows {
		v, ok := findMetric(res, r.bench, r.unit)
		if !ok {
			continue
		}
		shown := human(v)
		switch {
		case strings.HasPrefix(r.note, "µs"):
			shown = human(v * 1e3)
			r.note = strings.TrimPrefix(strings.TrimPrefix(r.note, "µs"), "; ")
		case strings.HasPrefix(r.note, "count"):
			shown = fmt.Sprintf("%.1f", v)
			if v >= 10000 {
				shown = fmt.Sprintf("%.0f", v)
			}
			r.note = strings.TrimPrefix(strings.TrimPrefix(r.note, "count, not time"), "; ")
		}
		ratio := ""
		if r.base != "" {
			base, unit, _ := strings.Cut(r.base, ":")
			if unit == "" {
				unit = "ns/op"
			}
			scale := 1.0
			if strings.HasPrefix(r.unit, "µs") {
				scale = 1e3
			}
			if bv, ok := findMetric(res, base, unit); ok && bv > 0 {
				ratio = fmt.Sprintf("%.3f × %s", v*scale/bv, strings.TrimPrefix(base, "Benchmark"))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.what, shown, ratio, r.note)
	}
	fmt.Print(b.String())
	if *out != "" {
		// The notes under the table (from the line "Notes:" on) are
		// written by hand; keep them.
		if old, err := os.ReadFile(*out); err == nil {
			if i := strings.Index(string(old), "\nNotes:\n"); i >= 0 {
				b.WriteString(string(old[i:]))
			}
		}
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
}

// findMetric looks a benchmark up by exact name, or else as the parent of
// sub-benchmarks whose names carry parameters (name/…): BenchmarkClusterCast
// is not BenchmarkClusterCastWAN.
func findMetric(res map[string]result, name, unit string) (float64, bool) {
	if r, ok := res[name]; ok {
		v, ok := r[unit]
		return v, ok
	}
	for k, r := range res {
		if strings.HasPrefix(k, name+"/") {
			if v, ok := r[unit]; ok {
				return v, true
			}
		}
	}
	return 0, false
}
