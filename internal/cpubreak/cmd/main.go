// Command cpubreak prints where the CPU of a cluster's node profiles went,
// by component, as a Markdown table (package cpubreak).
//
//	go run ./internal/cpubreak/cmd -ballots 5000 -nodes 4 node*.cpu.pprof
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/evote/evote/internal/cpubreak"
)

func main() {
	ballots := flag.Int("ballots", 0, "committed ballots during the profiles (for the per-ballot column)")
	nodes := flag.Int("nodes", 4, "nodes whose profiles these are")
	flag.Parse()
	shares, total, err := cpubreak.Split(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cpubreak.WriteTable(os.Stdout, shares, total, *ballots, *nodes)
}
