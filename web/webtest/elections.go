package webtest

import (
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/trustee"
)

// AddElection defines a second (third, …) election on env's chain, signed
// by the official of env's election (the one the genesis authorises), with
// voters credentials and the voting window [start, end). It runs the key
// ceremony and loads the roll; the election is opened only if open is set
// (else it stays "ready").
func (env *Env) AddElection(tb testing.TB, id string, voters int, start, end time.Time, open bool) *chaintest.Election {
	tb.Helper()
	e := chaintest.New(tb, env.ChainID, id, voters, start, end)
	e.Official = env.Election.Official
	e.Manifest.Officials = []ballot.Official{env.Election.Manifest.Officials[0]}
	// The ceremony is bound to the manifest's hash, which names the
	// official.
	c, err := trustee.NewCeremony(e.Manifest)
	if err != nil {
		tb.Fatal(err)
	}
	e.Ceremony = c
	blocks := e.SetupBlocks(tb)
	if !open {
		blocks = blocks[:len(blocks)-1] // the last block opens it
	}
	for _, blk := range blocks {
		env.Commit(tb, blk...)
	}
	return e
}
