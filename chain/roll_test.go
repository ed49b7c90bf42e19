package chain_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// TestRollOrderEnforced: a roll lists its keys in ascending order, so that
// its order reveals nothing of the order the credentials were generated in
// (and so of who holds which). A chunk whose keys are out of order, or a
// chunk that does not follow its neighbour, is refused with code 12.
func TestRollOrderEnforced(t *testing.T) {
	e := chaintest.New(t, "test-chain", "city-2026", 3, t0, t0.Add(12*time.Hour))
	e.Manifest.Voters.RollSize = 2 * credential.ChunkSize
	var err error
	if e.Ceremony, err = trustee.NewCeremony(e.Manifest); err != nil {
		t.Fatal(err)
	}
	setup := e.SetupBlocks(t)[:5] // define, the 4 ceremony rounds
	h := newHarness(t, e.GenesisAppState())
	for _, b := range setup {
		h.mustBlock(b...)
	}
	keys := make([]ed25519.PublicKey, 2*credential.ChunkSize)
	for i := range keys {
		keys[i] = make([]byte, credential.PublicKeySize)
		rand.Read(keys[i])
	}
	roll, err := credential.NewRoll("city-2026", chaintest.CheapKDF, keys)
	if err != nil {
		t.Fatal(err)
	}
	txs, err := chain.RollTxs("test-chain", roll, e.Official)
	if err != nil || len(txs) != 2 {
		t.Fatalf("%d roll transactions, %v", len(txs), err)
	}
	resign := func(tx *wire.CredentialRoll) []byte {
		wire.Sign("test-chain", tx, e.Official)
		return wire.Encode(tx)
	}
	decode := func(i int) *wire.CredentialRoll {
		tx, err := wire.Decode(wire.Encode(txs[i]))
		if err != nil {
			t.Fatal(err)
		}
		return tx.(*wire.CredentialRoll)
	}
	expect := func(what string, r []*abci.ExecTxResult, want string) {
		t.Helper()
		if r[0].Code != uint32(wire.CodeRoll) || !strings.Contains(r[0].Log, want) {
			t.Fatalf("%s: code %d %q, want %d with %q", what, r[0].Code, r[0].Log, wire.CodeRoll, want)
		}
	}
	// Two keys of chunk 0 swapped.
	swapped := decode(0)
	k := swapped.Entries
	const n = credential.EntrySize
	a, b := append([]byte(nil), k[:n]...), append([]byte(nil), k[n:2*n]...)
	copy(k[:n], b)
	copy(k[n:2*n], a)
	expect("keys out of order in a chunk", h.block(resign(swapped)), "ascending order")

	// The two chunks' keys exchanged: each is sorted, the roll is not.
	c0, c1 := decode(0), decode(1)
	c0.Entries, c1.Entries = c1.Entries, c0.Entries
	h.mustBlock(resign(c1)) // chunk 1 alone is fine so far
	expect("chunk 0 after chunk 1's keys", h.block(resign(c0)), "not before the first key of chunk 1")

	// The same roll in order loads (in another election's worth of state,
	// the refused chunk changed nothing).
	h2 := newHarness(t, e.GenesisAppState())
	for _, b := range setup {
		h2.mustBlock(b...)
	}
	h2.mustBlock(wire.Encode(txs[1]))
	h2.mustBlock(wire.Encode(txs[0]))
}
