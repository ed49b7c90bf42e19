package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/largerecord"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/verify"
	"github.com/evote/evote/wire"
)

// synthChain is a one-authority chain (largerecord.Chain) whose every
// failure fails tb.
type synthChain struct {
	tb testing.TB
	*largerecord.Chain
}

func newSynthChain(tb testing.TB, dir, chainID, electionID string, appState []byte, t0 time.Time, appHash func(int64, []byte) []byte) *synthChain {
	c, err := largerecord.NewChain(context.Background(), dir, filepath.Join(dir, "record"), chainID, electionID, appState, t0,
		largerecord.ChainOptions{Validators: 1, AppHash: appHash})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &synthChain{tb: tb, Chain: c}
}

// mustBlock adds a block whose every transaction is accepted.
func (s *synthChain) mustBlock(txs ...[]byte) {
	if err := s.Block(context.Background(), txs); err != nil {
		s.tb.Fatal(err)
	}
}

func (s *synthChain) close(id string) {
	if err := s.Finish(context.Background(), id); err != nil {
		s.tb.Fatal(err)
	}
}

// buildRecord writes a complete election of n ballots of one contest of
// ten selections (up to 1 marked) into dir/record.
func buildRecord(tb testing.TB, dir string, n int) string {
	return buildRecordWith(tb, dir, n, nil)
}

// buildRecordWith builds the record of buildRecord on a chain whose app
// hashes appHash may replace.
func buildRecordWith(tb testing.TB, dir string, n int, appHash func(int64, []byte) []byte) string {
	const id = "bench-2026"
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	m := ballottest.Manifest(id, []ballot.Rule{{Kind: ballot.UpTo, Max: 1}}, []int{10})
	m.Start, m.End = t0.Add(-time.Hour), t0.Add(30*24*time.Hour)
	m.Voters.RollSize = n
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	m.Officials = []ballot.Official{{Name: "Returning officer", PublicKey: pub}}
	e := &chaintest.Election{ChainID: "bench-chain", Official: priv, Manifest: m}
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
	if e.Codes, e.Roll, err = credential.Generate(id, n, chaintest.CheapKDF, rand.Reader, 2); err != nil {
		tb.Fatal(err)
	}
	e.Credentials = make([]*credential.Credential, n)
	largerecord.Parallel(n, 2, func(i int) {
		c, err := credential.Derive(e.Codes[i], id, chaintest.CheapKDF)
		if err != nil {
			panic(err)
		}
		e.Credentials[i] = c
	})
	s := newSynthChain(tb, dir, e.ChainID, id, e.GenesisAppState(), t0, appHash)
	for _, blk := range e.SetupBlocks(tb) {
		s.mustBlock(blk...)
	}
	be := e.BallotElection(tb)
	txs := make([][]byte, n)
	largerecord.Parallel(n, 2, func(i int) {
		p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{
			m.Contests[0].ID: {m.Contests[0].Selections[i%10].ID}}}
		txs[i], _ = e.Cast(tb, be, i, p)
	})
	const perBlock = 500
	for i := 0; i < n; i += perBlock {
		s.mustBlock(txs[i:min(i+perBlock, n)]...)
	}
	s.mustBlock(wire.Encode(chain.CloseTx(e.ChainID, id, e.Official)))
	totals, err := s.App().Totals(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	var enc []byte
	for _, c := range totals {
		enc = append(enc, c.Encode()...)
	}
	s.mustBlock(wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: enc}))
	var shares []crypto.DecryptionShare
	for _, k := range e.Trustees[:2] {
		sh, sig, err := k.Decrypt(be.BaseHash, totals)
		if err != nil {
			tb.Fatal(err)
		}
		shares = append(shares, sh)
		s.mustBlock(wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(sh.Trustee), Share: sh.Encode(), Signature: sig.Encode()}))
	}
	var vks []crypto.Point
	for _, raw := range e.Trustees[0].Ceremonies[id].VerificationKeys {
		p, _ := crypto.DecodeNonIdentityPoint(raw)
		vks = append(vks, p)
	}
	points, err := crypto.Combine(be.BaseHash, m.Trustees.Threshold, vks, totals, shares)
	if err != nil {
		tb.Fatal(err)
	}
	table, err := crypto.NewDlogTable(uint64(n))
	if err != nil {
		tb.Fatal(err)
	}
	counts, err := table.SolveMany(points, 2)
	if err != nil {
		tb.Fatal(err)
	}
	s.mustBlock(wire.Encode(&wire.Result{ElectionID: id, Counts: counts}))
	s.close(id)
	return filepath.Join(dir, "record")
}

// BenchmarkVerify100k verifies a record of ten-selection ballots: 100,000
// with EVOTE_BENCH_BALLOTS=100000 (building it takes a long time: every
// ballot is encrypted and proved), 2,000 by default. It reports the time
// per selection (all of a ballot's proofs, its signature, the chain and the
// rules, divided by ten) to compare with crypto's batched 0/1 proof
// verification (go test -bench VerifySelectionBatch ./crypto/).
func BenchmarkVerify100k(b *testing.B) {
	n := 2000
	if s := os.Getenv("EVOTE_BENCH_BALLOTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("EVOTE_BENCH_BALLOTS=%q", s)
		}
		n = v
	}
	start := time.Now()
	dir := buildRecord(b, b.TempDir(), n)
	b.Logf("built a record of %d ballots in %v", n, time.Since(start).Round(time.Second))
	b.ResetTimer()
	for range b.N {
		r, err := verify.Record(context.Background(), dir, verify.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if !r.OK() {
			var sb stringsBuilder
			r.WriteText(&sb)
			b.Fatalf("verification failed:\n%s", sb)
		}
	}
	b.StopTimer()
	perSel := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n*10)
	b.ReportMetric(perSel/1000, "µs/selection")
	b.ReportMetric(float64(n), "ballots")
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }
