// Package largerecord writes the election record of a large synthetic
// election, for `make bench-large` and its test: a chain of four
// authorities that defines an election, runs its key ceremony, loads a roll
// of n credentials, takes one ballot from each (encrypted, proved and
// signed for real), closes, publishes the totals, the trustees' shares and
// the result. Every block is executed by the real application (chain.App
// over Pebble), so the results and app hashes are the rules', and signed by
// all four authorities; `evote verify --record` passes every check on it.
//
// The credentials' keys are drawn at random (no voter code exists, and no
// Argon2id derivation runs). The record is written as it is made: memory
// holds the roll's keys and the exporter's index of the ballots, never the
// ballots themselves.
package largerecord

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// Config is a record to generate.
type Config struct {
	// Dir is the record folder; it must not exist or be empty.
	Dir string
	// Manifest is the election configuration (YAML, docs/election-config.md);
	// its window, officials, trustees' keys and roll size are replaced.
	Manifest string
	// Ballots is the number of credentials, each of which casts one ballot.
	Ballots int
	// PerBlock is the number of ballots per block (1,500 if 0).
	PerBlock int
	// Workers encrypt ballots in parallel (GOMAXPROCS if 0).
	Workers int
	// Progress, if set, receives a line now and then.
	Progress io.Writer
}

// Stats describes a generated record.
type Stats struct {
	Ballots    int
	Selections int // per ballot
	Heights    int64
	Duration   time.Duration
}

const chainID = "evote-large"

// Generate writes the record of cfg.
func Generate(ctx context.Context, cfg Config) (*Stats, error) {
	start := time.Now()
	if cfg.Ballots < 1 {
		return nil, errors.New("largerecord: at least one ballot")
	}
	if cfg.PerBlock <= 0 {
		cfg.PerBlock = 1500
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	logf := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "largerecord: %s: "+format+"\n", append([]any{time.Since(start).Round(time.Second)}, args...)...)
		}
	}
	m, err := config.Load(cfg.Manifest)
	if err != nil {
		return nil, err
	}
	t0 := time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)
	m.Start, m.End = t0.Add(-time.Hour), t0.Add(30*24*time.Hour)
	m.Voters = ballot.Voters{RollSize: cfg.Ballots}
	pub, official, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	m.Officials = []ballot.Official{{Name: "Returning officer", PublicKey: pub}}
	var trustees []*trustee.Key
	for i := range m.Trustees.Members {
		k, err := trustee.NewKey(rand.Reader, m.Trustees.Members[i].Name)
		if err != nil {
			return nil, err
		}
		m.Trustees.Members[i].PublicKey = k.Identity
		trustees = append(trustees, k)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	id := m.ElectionID
	creds := newCredentials(cfg.Ballots, cfg.Workers)
	roll, err := creds.roll(id)
	if err != nil {
		return nil, err
	}
	logf("%d credentials", cfg.Ballots)

	stateDir, err := os.MkdirTemp("", "largerecord-state-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stateDir)
	appState, _ := json.Marshal(chain.GenesisState{Officials: []string{ballot.FormatEd25519Key(pub)}})
	bc, err := NewChain(ctx, stateDir, cfg.Dir, chainID, id, appState, t0, ChainOptions{})
	if err != nil {
		return nil, err
	}
	defer bc.Close()

	be, err := setup(ctx, bc, m, official, trustees, roll)
	if err != nil {
		return nil, err
	}
	logf("election defined, key ceremony done, roll loaded, open at height %d", bc.height)
	if err := castAll(ctx, bc, be, creds, cfg, logf); err != nil {
		return nil, err
	}
	if err := tally(ctx, bc, be, m, official, trustees, cfg.Ballots); err != nil {
		return nil, err
	}
	if err := bc.Finish(ctx, id); err != nil {
		return nil, err
	}
	sel := 0
	for _, c := range m.Contests {
		sel += len(c.Selections)
	}
	logf("record of %d heights written to %s", bc.height, cfg.Dir)
	return &Stats{Ballots: cfg.Ballots, Selections: sel, Heights: bc.height, Duration: time.Since(start)}, nil
}

// credentials are the voters' signing keys, each derived from a random
// master seed and the voter's number, so that only the public keys are
// kept.
type credentials struct {
	seed [32]byte
	pubs []ed25519.PublicKey
}

func newCredentials(n, workers int) *credentials {
	c := &credentials{pubs: make([]ed25519.PublicKey, n)}
	_, _ = rand.Read(c.seed[:])
	Parallel(n, workers, func(i int) { c.pubs[i] = c.key(i).Public().(ed25519.PublicKey) })
	return c
}

func (c *credentials) key(i int) ed25519.PrivateKey {
	var b [40]byte
	copy(b[:], c.seed[:])
	binary.BigEndian.PutUint64(b[32:], uint64(i))
	s := sha256.Sum256(b[:])
	return ed25519.NewKeyFromSeed(s[:])
}

func (c *credentials) roll(id string) (*credential.Roll, error) {
	// No code derives these keys: the roll's KDF parameters are the default
	// only so that the roll is one an election would publish.
	return credential.NewRoll(id, credential.DefaultKDF, c.pubs)
}

// setup defines the election, runs the key ceremony, loads the roll and
// opens the election, and returns the ballot election (with the joint key).
func setup(ctx context.Context, bc *Chain, m *ballot.Manifest, official ed25519.PrivateKey, trustees []*trustee.Key, roll *credential.Roll) (*ballot.Election, error) {
	id := m.ElectionID
	if err := bc.Block(ctx, encode(chain.DefineElectionTx(chainID, m, official))); err != nil {
		return nil, err
	}
	cer, err := trustee.NewCeremony(m)
	if err != nil {
		return nil, err
	}
	var msgs []*trustee.Message
	rounds := []func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error){
		func(k *trustee.Key, _ *trustee.Transcript) (*trustee.Message, error) { return cer.Register(k) },
		cer.Deal,
		func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
			msg, _, err := cer.Check(k, t)
			return msg, err
		},
		func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
			msg, _, err := cer.Justify(k, t)
			return msg, err
		},
	}
	for _, round := range rounds {
		t := cer.Collect(msgs)
		var txs []wire.Tx
		for _, k := range trustees {
			msg, err := round(k, t)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, msg)
			txs = append(txs, chain.CeremonyTx(msg))
		}
		if err := bc.Block(ctx, encode(txs...)); err != nil {
			return nil, err
		}
	}
	for _, k := range trustees {
		if _, err := cer.Finish(k, cer.Collect(msgs), false); err != nil {
			return nil, err
		}
	}
	rollTxs, err := chain.RollTxs(chainID, roll, official)
	if err != nil {
		return nil, err
	}
	// Roll chunks in blocks of at most half the block size.
	var blk [][]byte
	size := 0
	for _, t := range rollTxs {
		raw := wire.Encode(t)
		if len(blk) > 0 && size+len(raw) > int(bc.params.Block.MaxBytes)/2 {
			if err := bc.Block(ctx, blk); err != nil {
				return nil, err
			}
			blk, size = nil, 0
		}
		blk, size = append(blk, raw), size+len(raw)
	}
	if err := bc.Block(ctx, blk); err != nil {
		return nil, err
	}
	if err := bc.Block(ctx, encode(chain.OpenTx(chainID, id, official))); err != nil {
		return nil, err
	}
	k, err := crypto.DecodeNonIdentityPoint(trustees[0].Ceremonies[id].JointKey)
	if err != nil {
		return nil, err
	}
	return ballot.NewElection(m, k)
}

// castAll casts one ballot per credential, cfg.PerBlock to a block: the
// next block's ballots are encrypted (by cfg.Workers goroutines) while the
// application executes the last one.
func castAll(ctx context.Context, bc *Chain, be *ballot.Election, creds *credentials, cfg Config, logf func(string, ...any)) error {
	style := be.Manifest.StyleIDs()[0]
	contests, err := be.Manifest.StyleContests(style)
	if err != nil {
		return err
	}
	n := cfg.Ballots
	type made struct {
		txs [][]byte
		err error
	}
	blocks := make(chan made, 1)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(blocks)
		for first := 0; first < n; first += cfg.PerBlock {
			txs := make([][]byte, min(cfg.PerBlock, n-first))
			var mu sync.Mutex
			var ferr error
			Parallel(len(txs), cfg.Workers, func(j int) {
				raw, err := castTx(be, creds, first+j, style, contests)
				mu.Lock()
				defer mu.Unlock()
				txs[j] = raw
				if err != nil && ferr == nil {
					ferr = err
				}
			})
			select {
			case blocks <- made{txs, ferr}:
			case <-gctx.Done():
				return
			}
			if ferr != nil {
				return
			}
		}
	}()
	done := 0
	last := time.Now()
	for b := range blocks {
		if b.err != nil {
			return b.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := bc.Block(ctx, b.txs); err != nil {
			return err
		}
		done += len(b.txs)
		if time.Since(last) > 10*time.Second || done == n {
			logf("%d of %d ballots", done, n)
			last = time.Now()
		}
	}
	return nil
}

// castTx encrypts, proves and signs voter i's ballot: choices drawn from a
// generator seeded by i, within each contest's rule.
func castTx(be *ballot.Election, creds *credentials, i int, style string, contests []*ballot.Contest) ([]byte, error) {
	rng := mrand.New(mrand.NewPCG(uint64(i), 0x6c61726765))
	p := &ballot.Plaintext{StyleID: style, Choices: map[string][]string{}}
	for _, c := range contests {
		lo, hi := c.MinSelections(), c.MaxSelections()
		k := lo + rng.IntN(hi-lo+1)
		var ids []string
		for _, j := range rng.Perm(len(c.Selections))[:k] {
			ids = append(ids, c.Selections[j].ID)
		}
		p.Choices[c.ID] = ids
	}
	priv := creds.key(i)
	b, _, err := be.Encrypt(rand.Reader, priv.Public().(ed25519.PublicKey), p)
	if err != nil {
		return nil, err
	}
	c := &ballot.Cast{Ballot: b, Signature: ed25519.Sign(priv, credential.BallotMessage(be.BaseHash, b.Hash()))}
	return wire.Encode(&wire.Ballot{ElectionID: be.Manifest.ElectionID, Cast: c.Encode()}), nil
}

// tally closes the election, publishes the totals, the decryption shares
// of the first threshold trustees and the result.
func tally(ctx context.Context, bc *Chain, be *ballot.Election, m *ballot.Manifest, official ed25519.PrivateKey, trustees []*trustee.Key, n int) error {
	id := m.ElectionID
	if err := bc.Block(ctx, encode(chain.CloseTx(chainID, id, official))); err != nil {
		return err
	}
	totals, err := bc.app.Totals(ctx, id)
	if err != nil {
		return err
	}
	var enc []byte
	for _, c := range totals {
		enc = append(enc, c.Encode()...)
	}
	if err := bc.Block(ctx, encode(&wire.Totals{ElectionID: id, Ciphertexts: enc})); err != nil {
		return err
	}
	k := m.Trustees.Threshold
	var shares []crypto.DecryptionShare
	for _, tk := range trustees[:k] {
		sh, sig, err := tk.Decrypt(be.BaseHash, totals)
		if err != nil {
			return err
		}
		shares = append(shares, sh)
		if err := bc.Block(ctx, encode(&wire.Share{ElectionID: id, Trustee: uint64(sh.Trustee), Share: sh.Encode(), Signature: sig.Encode()})); err != nil {
			return err
		}
	}
	var vks []crypto.Point
	for _, raw := range trustees[0].Ceremonies[id].VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			return err
		}
		vks = append(vks, p)
	}
	points, err := crypto.Combine(be.BaseHash, k, vks, totals, shares)
	if err != nil {
		return err
	}
	table, err := crypto.NewDlogTable(uint64(n))
	if err != nil {
		return err
	}
	counts, err := table.SolveMany(points, runtime.GOMAXPROCS(0))
	if err != nil {
		return err
	}
	return bc.Block(ctx, encode(&wire.Result{ElectionID: id, Counts: counts}))
}

func encode(txs ...wire.Tx) [][]byte {
	out := make([][]byte, len(txs))
	for i, t := range txs {
		out[i] = wire.Encode(t)
	}
	return out
}

// Parallel calls f(0) … f(n−1) on workers goroutines.
func Parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
