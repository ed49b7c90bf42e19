// Command cmd is `make bench-large`: it generates the record of a large
// election (package largerecord; kept in a folder and reused when it holds
// one of the same size), verifies it with `evote verify --record`, and
// prints the time, the verifier's peak memory and its cost per selection
// against batched 0/1-proof verification measured in the same run
// (crypto's BenchmarkVerifySelectionBatch, before and after).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evote/evote/internal/largerecord"
)

// cache is what the folder keeps of a generated record, written once the
// record is complete.
type cache struct {
	Ballots    int     `json:"ballots"`
	PerBlock   int     `json:"per_block"`
	Selections int     `json:"selections"`
	Heights    int64   `json:"heights"`
	Seconds    float64 `json:"generation_seconds"`
	Config     string  `json:"config"`
}

func main() {
	n := flag.Int("n", 1000000, "ballots (one per credential)")
	dir := flag.String("dir", "bench-large", "folder of the cached record")
	cfgPath := flag.String("config", "election-configs/benchmark-10-selections.yaml", "election configuration")
	perBlock := flag.Int("per-block", 1500, "ballots per block")
	evote := flag.String("evote", "bin/evote", "the evote binary that verifies")
	goCmd := flag.String("go", "go", "the go command (for the proof benchmark)")
	out := flag.String("out", "", "also write the table to this markdown file (its notes, from \"Notes:\" on, are kept)")
	flag.Parse()
	if err := run(*n, *dir, *cfgPath, *perBlock, *evote, *goCmd, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench-large:", err)
		os.Exit(1)
	}
}

func run(n int, dir, cfgPath string, perBlock int, evote, goCmd, out string) error {
	recDir := filepath.Join(dir, "record")
	marker := filepath.Join(dir, "generated.json")
	want := cache{Ballots: n, PerBlock: perBlock, Config: cfgPath}
	var c cache
	if b, err := os.ReadFile(marker); err == nil && json.Unmarshal(b, &c) == nil &&
		c.Ballots == want.Ballots && c.PerBlock == want.PerBlock && c.Config == want.Config {
		fmt.Printf("bench-large: reusing the record of %d ballots in %s (generated in %s)\n", n, recDir, seconds(c.Seconds))
	} else {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		st, err := largerecord.Generate(context.Background(), largerecord.Config{Dir: recDir, Manifest: cfgPath, Ballots: n, PerBlock: perBlock, Progress: os.Stderr})
		if err != nil {
			return err
		}
		c = want
		c.Selections, c.Heights, c.Seconds = st.Selections, st.Heights, st.Duration.Seconds()
		b, _ := json.MarshalIndent(c, "", "  ")
		if err := os.WriteFile(marker, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	size, err := dirSize(recDir)
	if err != nil {
		return err
	}

	before, cpu, err := batchedProof(goCmd)
	if err != nil {
		return err
	}
	verifyTime, rss, err := verifyRecord(evote, recDir, filepath.Join(dir, "verify.log"))
	if err != nil {
		return err
	}
	after, _, err := batchedProof(goCmd)
	if err != nil {
		return err
	}
	batched := (before + after) / 2
	perSel := float64(verifyTime.Nanoseconds()) / float64(n*c.Selections)
	ratio := perSel / batched

	var b strings.Builder
	fmt.Fprintf(&b, "# evote benchmarks: verifying a large record\n\n")
	fmt.Fprintf(&b, "Measured by `make bench-large` on %s (%s, %d cores, %s/%s), %s.\n",
		cpu, runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "The record (internal/largerecord) holds %d ballots of %d selections (%s), one per credential, %d to a block, "+
		"on a chain of %d authorities: %d heights, %.2f GB. `evote verify --record` checks all of it with every core; "+
		"the batched 0/1-proof verification (crypto's BenchmarkVerifySelectionBatch, batches of 1,000, all cores) is measured "+
		"just before and just after it (%.1f and %.1f µs per proof).\n\n",
		n, c.Selections, filepath.Base(cfgPath), perBlock, largerecord.Validators, c.Heights, float64(size)/1e9, before/1e3, after/1e3)
	fmt.Fprintf(&b, "| figure | value | note |\n| --- | --- | --- |\n")
	fmt.Fprintf(&b, "| ballots | %d | %d selections each |\n", n, c.Selections)
	fmt.Fprintf(&b, "| generation time | %s | encrypted, proved, signed, executed by chain.App and written; cached in %s |\n", seconds(c.Seconds), dir)
	fmt.Fprintf(&b, "| verification time | %s | `evote verify --record`, every check |\n", seconds(verifyTime.Seconds()))
	fmt.Fprintf(&b, "| verifier peak memory (RSS) | %.0f MiB | %.0f bytes per ballot; target < 2 GB |\n", float64(rss)/(1<<20), float64(rss)/float64(n))
	fmt.Fprintf(&b, "| verification per selection | %.1f µs | everything, divided by %d selections |\n", perSel/1e3, n*c.Selections)
	fmt.Fprintf(&b, "| batched 0/1-proof verification per proof, same run | %.1f µs | |\n", batched/1e3)
	fmt.Fprintf(&b, "| ratio | %.3f × | target ≤ 1.15 × |\n", ratio)
	fmt.Print(b.String())
	if out == "" {
		return nil
	}
	if old, err := os.ReadFile(out); err == nil {
		if i := bytes.Index(old, []byte("\nNotes:\n")); i >= 0 {
			b.Write(old[i:])
		}
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// verifyRecord runs `evote verify --record dir`, its report to logPath, and
// returns its wall time and peak resident memory.
func verifyRecord(evote, dir, logPath string) (time.Duration, int64, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return 0, 0, err
	}
	defer log.Close()
	cmd := exec.Command(evote, "verify", "--record", dir)
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s verify --record %s: %v (its report is in %s)", evote, dir, err, logPath)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no resource usage of %s", evote)
	}
	return d, ru.Maxrss * 1024, nil // Linux: KiB
}

var batchLine = regexp.MustCompile(`^BenchmarkVerifySelectionBatch/n=1000/workers=(\d+)\S*\s+\d+\s+.*?([\d.]+) ns/proof`)

// batchedProof runs crypto's batched 0/1-proof benchmark and returns the
// time per proof with the most workers, and the CPU it names.
func batchedProof(goCmd string) (float64, string, error) {
	cmd := exec.Command(goCmd, "test", "-run", "^$", "-bench", "^BenchmarkVerifySelectionBatch$", "-benchtime", "20x", "./crypto/")
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return 0, "", fmt.Errorf("go test -bench VerifySelectionBatch ./crypto/: %v", err)
	}
	best, workers, cpu := 0.0, 0, "an unknown CPU"
	sc := bufio.NewScanner(bytes.NewReader(outb))
	for sc.Scan() {
		s := sc.Text()
		if c, ok := strings.CutPrefix(s, "cpu: "); ok {
			cpu = c
		}
		if m := batchLine.FindStringSubmatch(s); m != nil {
			w, _ := strconv.Atoi(m[1])
			v, _ := strconv.ParseFloat(m[2], 64)
			if w > workers {
				best, workers = v, w
			}
		}
	}
	if workers == 0 {
		return 0, "", fmt.Errorf("go test -bench VerifySelectionBatch ./crypto/ printed no ns/proof:\n%s", outb)
	}
	return best, cpu, nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.1f s", s)
}
