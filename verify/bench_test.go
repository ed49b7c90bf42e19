package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/record"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/verify"
	"github.com/evote/evote/wire"
)

// synthChain builds a single-validator chain without consensus: it runs
// the real application (chain.App over Pebble) on each block for the
// results and app hashes, and makes and signs the blocks itself with
// CometBFT's types and a validator key. It is legitimate test data: every
// block is exactly what a one-validator CometBFT chain would commit.
type synthChain struct {
	tb      testing.TB
	chainID string
	priv    cmted25519.PrivKey
	vals    *types.ValidatorSet
	params  *types.ConsensusParams
	app     *chain.App
	w       *record.Writer
	d       *record.Deriver
	t0      time.Time

	height      int64
	prevID      types.BlockID
	prevCommit  *types.Commit
	prevResults []byte
	prevApp     []byte
	// appHash, if set, replaces the application's app hash of a block: a
	// chain whose nodes hold another state than the rules give.
	appHash func(height int64, got []byte) []byte
}

func newSynthChain(tb testing.TB, dir, chainID, electionID string, appState []byte, t0 time.Time) *synthChain {
	priv := cmted25519.GenPrivKey()
	val := types.NewValidator(priv.PubKey(), 10)
	s := &synthChain{tb: tb, chainID: chainID, priv: priv, vals: types.NewValidatorSet([]*types.Validator{val}),
		params: types.DefaultConsensusParams(), t0: t0}
	s.params.Block.MaxBytes = 8 << 20
	doc := &types.GenesisDoc{ChainID: chainID, GenesisTime: t0, InitialHeight: 1, ConsensusParams: s.params, AppState: appState,
		Validators: []types.GenesisValidator{{Address: priv.PubKey().Address(), PubKey: priv.PubKey(), Power: 10, Name: "v0"}}}
	if err := doc.ValidateAndComplete(); err != nil {
		tb.Fatal(err)
	}
	st, err := pebblestore.New(context.Background(), pebblestore.Config{Dir: filepath.Join(dir, "state")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if s.app, err = chain.NewApp(st, chain.AppOptions{Now: func() time.Time { return t0.Add(time.Duration(s.height) * time.Second) }}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: chainID, AppStateBytes: appState}); err != nil {
		tb.Fatal(err)
	}
	if s.w, err = record.NewWriter(filepath.Join(dir, "record"), chainID, electionID); err != nil {
		tb.Fatal(err)
	}
	g, _ := cmtjson.MarshalIndent(doc, "", "  ")
	if err := s.w.WriteFile(record.GenesisFile, append(g, '\n')); err != nil {
		tb.Fatal(err)
	}
	s.d = record.NewDeriver(electionID)
	return s
}

// block executes, makes, signs and records the next block.
func (s *synthChain) block(txs [][]byte) []*abci.ExecTxResult {
	s.height++
	h := s.height
	tm := s.t0.Add(time.Duration(h) * time.Second)
	ctx := context.Background()
	res, err := s.app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: h, Time: tm, Txs: txs})
	if err != nil {
		s.tb.Fatal(err)
	}
	if _, err := s.app.Commit(ctx, &abci.CommitRequest{}); err != nil {
		s.tb.Fatal(err)
	}
	if s.appHash != nil {
		res.AppHash = s.appHash(h, res.AppHash)
	}
	last := s.prevCommit
	if last == nil {
		last = &types.Commit{}
	}
	b := &types.Block{Header: types.Header{
		Version: cmtversion.Consensus{Block: version.BlockProtocol}, ChainID: s.chainID, Height: h, Time: tm,
		LastBlockID: s.prevID, ValidatorsHash: s.vals.Hash(), NextValidatorsHash: s.vals.Hash(),
		ConsensusHash: s.params.Hash(), AppHash: s.prevApp, LastResultsHash: s.prevResults,
		ProposerAddress: s.priv.PubKey().Address(),
	}, LastCommit: last}
	for _, tx := range txs {
		b.Data.Txs = append(b.Data.Txs, tx)
	}
	b.DataHash, b.EvidenceHash, b.LastCommitHash = b.Data.Hash(), b.Evidence.Hash(), last.Hash()
	ps, err := b.MakePartSet(types.BlockPartSizeBytes)
	if err != nil {
		s.tb.Fatal(err)
	}
	id := types.BlockID{Hash: b.Header.Hash(), PartSetHeader: ps.Header()}
	cm := &types.Commit{Height: h, BlockID: id, Signatures: []types.CommitSig{{
		BlockIDFlag: types.BlockIDFlagCommit, ValidatorAddress: s.priv.PubKey().Address(), Timestamp: tm.Add(500 * time.Millisecond)}}}
	sig, err := s.priv.Sign(cm.VoteSignBytes(s.chainID, 0))
	if err != nil {
		s.tb.Fatal(err)
	}
	cm.Signatures[0].Signature = sig
	e := &record.Entry{Height: h, BlockID: id, Block: b, Commit: cm, AppHash: res.AppHash}
	for _, r := range res.TxResults {
		e.Results = append(e.Results, record.TxResult{Code: r.Code, Data: r.Data, Log: r.Log, Codespace: r.Codespace, GasWanted: r.GasWanted, GasUsed: r.GasUsed})
	}
	s.d.Block(e)
	if err := s.w.AddBlock(e); err != nil {
		s.tb.Fatal(err)
	}
	s.prevID, s.prevCommit, s.prevApp = id, cm, res.AppHash
	s.prevResults = types.NewResults(res.TxResults).Hash()
	return res.TxResults
}

func (s *synthChain) mustBlock(txs ...[]byte) {
	for i, r := range s.block(txs) {
		if r.Code != 0 {
			s.tb.Fatalf("height %d tx %d: code %d: %s", s.height, i, r.Code, r.Log)
		}
	}
}

func (s *synthChain) query(path string) json.RawMessage {
	r, err := s.app.Query(context.Background(), &abci.QueryRequest{Path: path})
	if err != nil || r.Code != 0 {
		return nil
	}
	return r.Value
}

func (s *synthChain) close(id string) {
	st := &record.NodeState{Election: s.query("election/" + id), Ceremony: s.query("ceremony/" + id),
		Totals: s.query("totals/" + id), Shares: s.query("shares/" + id)}
	if err := s.d.WriteFiles(s.w, st); err != nil {
		s.tb.Fatal(err)
	}
	if err := s.w.Close(); err != nil {
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
	parallel(n, func(i int) {
		c, err := credential.Derive(e.Codes[i], id, chaintest.CheapKDF)
		if err != nil {
			panic(err)
		}
		e.Credentials[i] = c
	})
	s := newSynthChain(tb, dir, e.ChainID, id, e.GenesisAppState(), t0)
	s.appHash = appHash
	for _, blk := range e.SetupBlocks(tb) {
		s.mustBlock(blk...)
	}
	be := e.BallotElection(tb)
	txs := make([][]byte, n)
	parallel(n, func(i int) {
		p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{
			m.Contests[0].ID: {m.Contests[0].Selections[i%10].ID}}}
		txs[i], _ = e.Cast(tb, be, i, p)
	})
	const perBlock = 500
	for i := 0; i < n; i += perBlock {
		s.mustBlock(txs[i:min(i+perBlock, n)]...)
	}
	s.mustBlock(wire.Encode(chain.CloseTx(e.ChainID, id, e.Official)))
	totals, err := s.app.Totals(context.Background(), id)
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

func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	var next sync.Mutex
	i := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				f(k)
			}
		}()
	}
	wg.Wait()
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
