package chain_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/wire"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// harness drives an App through the ABCI calls CometBFT makes.
type harness struct {
	t      testing.TB
	app    *chain.App
	st     interface{ Close() error }
	dir    string
	height int64
	clock  time.Time
	hashes []string // app hash after each block
}

func newHarness(t *testing.T, appState []byte) *harness { return newHarnessB(t, appState) }

func newHarnessB(t testing.TB, appState []byte) *harness {
	h := &harness{t: t, dir: t.TempDir(), clock: t0.Add(time.Hour)}
	h.open()
	if _, err := h.app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: "test-chain", AppStateBytes: appState}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) open() {
	if h.st != nil {
		h.st.Close()
	}
	st, err := pebblestore.New(context.Background(), pebblestore.Config{Dir: h.dir})
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
	h.t.Cleanup(func() { st.Close() })
	h.app, err = chain.NewApp(st, chain.AppOptions{Now: func() time.Time { return h.clock }})
	if err != nil {
		h.t.Fatal(err)
	}
}

// block finalises and commits a block of txs and returns the result codes.
func (h *harness) block(txs ...[]byte) []*abci.ExecTxResult {
	h.t.Helper()
	h.height++
	ctx := context.Background()
	res, err := h.app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: h.height, Time: h.clock, Txs: txs})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.app.Commit(ctx, &abci.CommitRequest{}); err != nil {
		h.t.Fatal(err)
	}
	h.hashes = append(h.hashes, string(res.AppHash))
	return res.TxResults
}

// check checks tx as the node does a voter's transaction: its web server
// verifies a ballot (App.VerifyBallot), then CheckTx.
func (h *harness) check(tx []byte) *abci.CheckTxResponse {
	h.t.Helper()
	h.app.VerifyBallot(context.Background(), tx)
	return h.checkGossiped(tx)
}

// checkGossiped is CheckTx alone, as for a transaction a peer gossiped.
func (h *harness) checkGossiped(tx []byte) *abci.CheckTxResponse {
	h.t.Helper()
	r, err := h.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tx, Type: abci.CHECK_TX_TYPE_CHECK})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) mustBlock(txs ...[]byte) {
	h.t.Helper()
	for i, r := range h.block(txs...) {
		if r.Code != 0 {
			h.t.Fatalf("block %d tx %d rejected: code %d: %s", h.height, i, r.Code, r.Log)
		}
	}
}

func setup(t *testing.T) (*harness, *chaintest.Election, *ballot.Election) {
	e := chaintest.New(t, "test-chain", "city-2026", 6, t0, t0.Add(12*time.Hour))
	h := newHarness(t, e.GenesisAppState())
	for _, blk := range e.SetupBlocks(t) {
		h.mustBlock(blk...)
	}
	rec, err := h.app.ElectionRecord(context.Background(), "city-2026")
	if err != nil || rec.Phase != wire.PhaseOpen || !rec.RollComplete || rec.RollCount != 6 {
		t.Fatalf("after setup: %+v, %v", rec, err)
	}
	be := e.BallotElection(t)
	if string(rec.BaseHash) != string(be.BaseHash[:]) {
		t.Fatal("the chain's base hash differs from the trustees'")
	}
	return h, e, be
}

func TestElectionLifecycle(t *testing.T) {
	h, e, be := setup(t)
	ctx := context.Background()
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)

	tx0, b0 := e.Cast(t, be, 0, choices)
	tx1, _ := e.Cast(t, be, 1, choices)
	if r := h.check(tx0); r.Code != 0 {
		t.Fatalf("CheckTx of a valid ballot: %d %s", r.Code, r.Log)
	}
	h.mustBlock(tx0, tx1)

	// A re-vote replaces voter 0's first ballot.
	tx0b, b0b := e.Cast(t, be, 0, choices)
	res := h.block(tx0b)
	if res[0].Code != 0 {
		t.Fatalf("re-vote: %s", res[0].Log)
	}
	var replaces string
	for _, a := range res[0].Events[0].Attributes {
		if a.Key == "replaces" {
			replaces = a.Value
		}
	}
	if replaces != b0.TrackingCode() {
		t.Fatalf("re-vote event names %q, want %q", replaces, b0.TrackingCode())
	}
	old, _, err := h.app.BallotByTrackingCode(ctx, "city-2026", b0.TrackingCode())
	if h0b := b0b.Hash(); err != nil || string(old.ReplacedBy) != string(h0b[:]) {
		t.Fatalf("replaced ballot record: %+v %v", old, err)
	}

	// An audited ballot is recorded and can never be cast.
	ab, sec, _ := be.Encrypt(rand.Reader, e.Credentials[2].PublicKey(), choices)
	signedAudit, _ := be.SignAudit(e.Credentials[2], ab, sec)
	auditJSON, _ := json.Marshal(signedAudit)
	h.mustBlock(wire.Encode(&wire.Audit{ElectionID: "city-2026", File: auditJSON}))
	cast, _ := be.Sign(e.Credentials[2], ab)
	castAudited := wire.Encode(&wire.Ballot{ElectionID: "city-2026", Cast: cast.Encode()})

	// Every way a ballot can be wrong gets its own code, in CheckTx and in a
	// block alike.
	stranger := chaintest.New(t, "test-chain", "city-2026", 1, t0, t0.Add(12*time.Hour))
	strangerTx, _ := stranger.Cast(t, be, 0, choices) // signed with a credential not on the roll
	_, bb := e.Cast(t, be, 3, choices)
	bb.Contests[0].Selections[0].Ciphertext = bb.Contests[0].Selections[1].Ciphertext
	bc, _ := be.Sign(e.Credentials[3], bb)
	badProofTx := wire.Encode(&wire.Ballot{ElectionID: "city-2026", Cast: bc.Encode()})
	_, fb := e.Cast(t, be, 4, choices)
	fc, _ := be.Sign(e.Credentials[4], fb)
	fc.Signature[5] ^= 1
	forgedTx := wire.Encode(&wire.Ballot{ElectionID: "city-2026", Cast: fc.Encode()})
	wrongElection := wire.Encode(&wire.Ballot{ElectionID: "no-such-election", Cast: cast.Encode()})
	cases := []struct {
		name string
		tx   []byte
		code uint32
	}{
		{"garbage", []byte("not a transaction"), uint32(wire.CodeMalformed)},
		{"replay", tx1, uint32(wire.CodeDuplicate)},
		{"audited ballot cast", castAudited, uint32(wire.CodeAudited)},
		{"not on the roll", strangerTx, uint32(wire.CodeNotOnRoll)},
		{"bad proof", badProofTx, uint32(wire.CodeInvalidProof)},
		{"forged signature", forgedTx, uint32(wire.CodeBadSignature)},
		{"unknown election", wrongElection, uint32(wire.CodeUnknownElection)},
	}
	for _, c := range cases {
		if r := h.check(c.tx); r.Code != c.code {
			t.Errorf("%s: CheckTx code %d (%s), want %d", c.name, r.Code, r.Log, c.code)
		}
	}
	var txs [][]byte
	for _, c := range cases {
		txs = append(txs, c.tx)
	}
	for i, r := range h.block(txs...) {
		if r.Code != cases[i].code {
			t.Errorf("%s: block code %d (%s), want %d", cases[i].name, r.Code, r.Log, cases[i].code)
		}
	}
	rec, _ := h.app.ElectionRecord(ctx, "city-2026")
	if rec.BallotsCast != 3 || rec.BallotsReplaced != 1 || rec.Counted() != 2 || rec.Audited != 1 {
		t.Fatalf("counters after rejected ballots: %+v", rec)
	}

	// Outside the window, and after close.
	h.clock = t0.Add(13 * time.Hour)
	late, _ := e.Cast(t, be, 5, choices)
	if r := h.check(late); r.Code != uint32(wire.CodeOutsideWindow) {
		t.Fatalf("late ballot: %d %s", r.Code, r.Log)
	}
	h.mustBlock(wire.Encode(chain.CloseTx("test-chain", "city-2026", e.Official)))
	if r := h.check(late); r.Code != uint32(wire.CodeWrongPhase) {
		t.Fatalf("ballot after close: %d %s", r.Code, r.Log)
	}
	// Only the officials may open or close.
	other := chaintest.New(t, "test-chain", "x", 1, t0, t0.Add(time.Hour))
	if r := h.check(wire.Encode(chain.OpenTx("test-chain", "city-2026", other.Official))); r.Code != uint32(wire.CodeUnauthorized) {
		t.Fatalf("open by a stranger: %d %s", r.Code, r.Log)
	}

	// A restarted node reports the same height and app hash.
	info, _ := h.app.Info(ctx, &abci.InfoRequest{})
	h.open()
	info2, _ := h.app.Info(ctx, &abci.InfoRequest{})
	if info.LastBlockHeight != h.height || info2.LastBlockHeight != h.height || string(info2.LastBlockAppHash) != h.hashes[len(h.hashes)-1] {
		t.Fatalf("restart: %+v vs %+v", info, info2)
	}
	if rec, _ := h.app.ElectionRecord(ctx, "city-2026"); rec.Phase != wire.PhaseClosed {
		t.Fatalf("restart lost state: %+v", rec)
	}
}

// TestDeterminism replays the same blocks on a second node and compares
// every app hash; the second node has never seen the ballots in CheckTx, so
// it verifies them in batches.
func TestDeterminism(t *testing.T) {
	e := chaintest.New(t, "test-chain", "city-2026", 4, t0, t0.Add(12*time.Hour))
	a, b := newHarness(t, e.GenesisAppState()), newHarness(t, e.GenesisAppState())
	var blocks [][][]byte
	blocks = append(blocks, e.SetupBlocks(t)...)
	be := e.BallotElection(t)
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)
	var blk [][]byte
	for i := range 4 {
		tx, _ := e.Cast(t, be, i, choices)
		a.check(tx) // only node a has the ballots in its cache
		blk = append(blk, tx)
	}
	_, bb := e.Cast(t, be, 1, choices)
	bb.Contests[1].Range.Branches[0].Response = bb.Contests[1].Range.Branches[1].Response
	bc, _ := be.Sign(e.Credentials[1], bb)
	blk = append(blk, wire.Encode(&wire.Ballot{ElectionID: "city-2026", Cast: bc.Encode()}))
	blocks = append(blocks, blk)
	var last []*abci.ExecTxResult
	for _, txs := range blocks {
		ra, rb := a.block(txs...), b.block(txs...)
		for i := range ra {
			if ra[i].Code != rb[i].Code {
				t.Fatalf("block %d tx %d: codes %d and %d", a.height, i, ra[i].Code, rb[i].Code)
			}
		}
		last = ra
	}
	for i, r := range last {
		if want := map[bool]uint32{true: uint32(wire.CodeInvalidProof), false: 0}[i == 4]; r.Code != want {
			t.Fatalf("ballot %d: code %d (%s), want %d", i, r.Code, r.Log, want)
		}
	}
	for i := range a.hashes {
		if a.hashes[i] != b.hashes[i] {
			t.Fatalf("app hash differs at height %d", i+1)
		}
	}
	if r := a.block(); len(r) != 0 {
		t.Fatal("empty block has results")
	}
}

// TestRejectedTxChangesNothing: a credential-roll chunk rejected for a
// repeated key must not leave its first keys on the roll.
func TestRejectedTxChangesNothing(t *testing.T) {
	e := chaintest.New(t, "test-chain", "city-2026", 3, t0, t0.Add(12*time.Hour))
	stranger := chaintest.New(t, "test-chain", "city-2026", 1, t0, t0.Add(12*time.Hour))
	h := newHarness(t, e.GenesisAppState())
	blocks := e.SetupBlocks(t) // define, 4 ceremony rounds, roll, open
	for _, b := range blocks[:5] {
		h.mustBlock(b...)
	}
	// A chunk of 3 keys: the stranger's, a voter's, the stranger's again.
	bad, err := credential.NewRoll("city-2026", chaintest.CheapKDF, []ed25519.PublicKey{
		stranger.Credentials[0].PublicKey(), e.Credentials[0].PublicKey(), e.Credentials[1].PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	txs, _ := chain.RollTxs("test-chain", bad, e.Official)
	tx := txs[0]
	// Repeat the stranger's key in another slot (the roll sorts its keys).
	si, _ := bad.Index(stranger.Credentials[0].PublicKey())
	sj := (si + 1) % 3
	copy(tx.Entries[credential.EntrySize*sj:credential.EntrySize*sj+32], stranger.Credentials[0].PublicKey())
	wire.Sign("test-chain", tx, e.Official)
	if r := h.block(wire.Encode(tx)); r[0].Code != uint32(wire.CodeRoll) {
		t.Fatalf("roll chunk with a repeated key: code %d %s", r[0].Code, r[0].Log)
	}
	h.mustBlock(blocks[5]...)
	h.mustBlock(blocks[6]...)
	be := e.BallotElection(t)
	cast, _ := stranger.Cast(t, be, 0, ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID))
	if r := h.block(cast); r[0].Code != uint32(wire.CodeNotOnRoll) {
		t.Fatalf("ballot of a key from the rejected chunk: code %d %s", r[0].Code, r[0].Log)
	}
}
