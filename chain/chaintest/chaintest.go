// Package chaintest builds complete elections for tests of the chain, the
// web server and the tally: an official, trustees who run the key ceremony,
// a credential roll and the transactions that set it all up. Production code
// never imports it.
package chaintest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// CheapKDF makes credential derivation fast in tests.
var CheapKDF = credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// Election is an election under construction and the secrets of its
// participants.
type Election struct {
	ChainID     string
	Official    ed25519.PrivateKey
	Manifest    *ballot.Manifest
	Trustees    []*trustee.Key
	Ceremony    *trustee.Ceremony
	Codes       []credential.Code
	Credentials []*credential.Credential
	Roll        *credential.Roll
	// Voters are the ballot style and weight of each credential.
	Voters []credential.Entry
}

// New makes an election with the mixed-rules manifest of ballottest, three
// trustees (threshold 2), voters credentials, and a voting window from start
// to end.
func New(tb testing.TB, chainID, id string, voters int, start, end time.Time) *Election {
	entries := make([]credential.Entry, voters)
	for i := range entries {
		entries[i] = credential.Entry{Style: ballot.DefaultStyleID, Weight: 1}
	}
	return NewWith(tb, chainID, id, ballottest.Mixed(), entries, start, end)
}

// NewWith makes an election of manifest m (its id and window set to id,
// start and end) with three trustees (threshold 2) and one credential per
// voter, Credentials[i] with the ballot style and weight of voters[i].
func NewWith(tb testing.TB, chainID, id string, m *ballot.Manifest, voters []credential.Entry, start, end time.Time) *Election {
	tb.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	m.ElectionID, m.Start, m.End = id, start, end
	m.Officials = []ballot.Official{{Name: "Returning officer", PublicKey: pub}}
	e := &Election{ChainID: chainID, Official: priv, Manifest: m, Voters: voters}
	for i := range m.Trustees.Members {
		k, err := trustee.NewKey(rand.Reader, m.Trustees.Members[i].Name)
		if err != nil {
			tb.Fatal(err)
		}
		m.Trustees.Members[i].PublicKey = k.Identity
		e.Trustees = append(e.Trustees, k)
	}
	var err error
	if e.Ceremony, err = trustee.NewCeremony(m); err != nil {
		tb.Fatal(err)
	}
	if e.Codes, e.Roll, err = credential.GenerateEntries(context.Background(), id, CheapKDF, m.StyleIDs(), voters, rand.Reader, 2, nil); err != nil {
		tb.Fatal(err)
	}
	for _, c := range e.Codes {
		cr, err := credential.Derive(c, id, CheapKDF)
		if err != nil {
			tb.Fatal(err)
		}
		e.Credentials = append(e.Credentials, cr)
	}
	return e
}

// GenesisAppState returns the chain's app_state authorising the official.
func (e *Election) GenesisAppState() []byte {
	b, _ := json.Marshal(chain.GenesisState{Officials: []string{ballot.FormatEd25519Key(e.Official.Public().(ed25519.PublicKey))}})
	return b
}

// SetupBlocks returns the transactions that define the election, run the key
// ceremony, load the roll and open the election, grouped into the blocks
// they must go in (each ceremony round needs the previous one on chain).
// ceremonyTranscript returns the ceremony messages so far; it is called
// between rounds (it reads what the chain holds, or the messages produced).
func (e *Election) SetupBlocks(tb testing.TB) [][][]byte {
	tb.Helper()
	var blocks [][][]byte
	enc := func(txs ...wire.Tx) [][]byte {
		var out [][]byte
		for _, t := range txs {
			out = append(out, wire.Encode(t))
		}
		return out
	}
	blocks = append(blocks, enc(chain.DefineElectionTx(e.ChainID, e.Manifest, e.Official)))
	var msgs []*trustee.Message
	round := func(f func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error)) {
		t := e.Ceremony.Collect(msgs)
		var txs []wire.Tx
		var next []*trustee.Message
		for _, k := range e.Trustees {
			m, err := f(k, t)
			if err != nil {
				tb.Fatal(err)
			}
			next = append(next, m)
			txs = append(txs, chain.CeremonyTx(m))
		}
		msgs = append(msgs, next...)
		blocks = append(blocks, enc(txs...))
	}
	round(func(k *trustee.Key, _ *trustee.Transcript) (*trustee.Message, error) { return e.Ceremony.Register(k) })
	round(e.Ceremony.Deal)
	round(func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
		m, _, err := e.Ceremony.Check(k, t)
		return m, err
	})
	round(func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
		m, _, err := e.Ceremony.Justify(k, t)
		return m, err
	})
	for _, k := range e.Trustees {
		if _, err := e.Ceremony.Finish(k, e.Ceremony.Collect(msgs), false); err != nil {
			tb.Fatal(err)
		}
	}
	roll, err := chain.RollTxs(e.ChainID, e.Roll, e.Official)
	if err != nil {
		tb.Fatal(err)
	}
	var rollBlock [][]byte
	for _, t := range roll {
		rollBlock = append(rollBlock, wire.Encode(t))
	}
	blocks = append(blocks, rollBlock)
	blocks = append(blocks, enc(chain.OpenTx(e.ChainID, e.Manifest.ElectionID, e.Official)))
	return blocks
}

// BallotElection returns the ballot.Election (manifest and joint key) once
// the trustees have finished the ceremony (after SetupBlocks).
func (e *Election) BallotElection(tb testing.TB) *ballot.Election {
	tb.Helper()
	k, err := crypto.DecodeNonIdentityPoint(e.Trustees[0].Ceremonies[e.Manifest.ElectionID].JointKey)
	if err != nil {
		tb.Fatal(err)
	}
	be, err := ballot.NewElection(e.Manifest, k)
	if err != nil {
		tb.Fatal(err)
	}
	return be
}

// Cast encrypts choices for voter i, signs the ballot and returns the
// transaction bytes and the ballot.
func (e *Election) Cast(tb testing.TB, be *ballot.Election, i int, p *ballot.Plaintext) ([]byte, *ballot.Ballot) {
	tb.Helper()
	b, _, err := be.Encrypt(rand.Reader, e.Credentials[i].PublicKey(), p)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := be.Sign(e.Credentials[i], b)
	if err != nil {
		tb.Fatal(err)
	}
	return wire.Encode(&wire.Ballot{ElectionID: e.Manifest.ElectionID, Cast: c.Encode()}), b
}

// Decrypt has the first k trustees decrypt totals, as a tally does: it
// returns their decryption-share transactions and the counts the shares
// give, each solved up to rec's weight of the counted ballots. rec is the
// election's record after close (its verification keys).
func (e *Election) Decrypt(tb testing.TB, be *ballot.Election, rec *rules.ElectionRecord, totals []crypto.Ciphertext) ([][]byte, []uint64) {
	tb.Helper()
	k := e.Manifest.Trustees.Threshold
	var shares []crypto.DecryptionShare
	var txs [][]byte
	for _, tk := range e.Trustees[:k] {
		sh, sig, err := tk.Decrypt(be.BaseHash, totals)
		if err != nil {
			tb.Fatal(err)
		}
		shares = append(shares, sh)
		txs = append(txs, wire.Encode(&wire.Share{ElectionID: e.Manifest.ElectionID, Trustee: uint64(sh.Trustee), Share: sh.Encode(), Signature: sig.Encode()}))
	}
	vks, err := rules.VerificationKeys(rec)
	if err != nil {
		tb.Fatal(err)
	}
	points, err := crypto.Combine(be.BaseHash, k, vks, totals, shares)
	if err != nil {
		tb.Fatal(err)
	}
	table, err := crypto.NewDlogTable(max(rec.WeightCounted, 1))
	if err != nil {
		tb.Fatal(err)
	}
	counts, err := table.SolveMany(points, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return txs, counts
}
