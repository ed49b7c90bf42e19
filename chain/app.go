// Package chain is the authority node's replicated state machine: evote's
// CometBFT ABCI application. It checks every transaction (election
// definitions, credential rolls, key-ceremony messages, open and close,
// ballots, audited ballots) in CheckTx and again, deterministically, when a
// block is finalised, and keeps its state in a store.Store.
//
// Determinism: every check depends only on the transaction, the committed
// state and the block's time. Checks that depend on the transaction alone
// (decoding, signatures, proofs) are pure functions; their outcome is cached
// by transaction hash so a node does not verify the same ballot twice, and a
// block's uncached ballots are verified together in one batch.
package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/trustee"
)

// AppOptions configure an App.
type AppOptions struct {
	Logger *slog.Logger
	// Now returns the current time for CheckTx's time-window check; blocks
	// use their own (consensus) time. Defaults to time.Now.
	Now func() time.Time
	// OnFatal is called once, from the consensus connection, when the
	// application halts because its store failed while executing or
	// committing a block. The node must then stop: its state for that block
	// is unknown, and only a restart (which executes the block again) makes
	// it agree with its peers.
	OnFatal func(error)
}

// App is evote's ABCI application.
type App struct {
	abci.BaseApplication
	store store.Store
	log   *slog.Logger
	now   func() time.Time

	// Consensus connection state: the block being finalised.
	block       *overlay
	pending     *store.Changes
	initWrites  *overlay // InitChain's writes, committed with block 1
	lastAppHash []byte

	mu              sync.Mutex
	committedHeight int64
	records         map[string]cachedRecord
	manifests       map[string][]byte // committed manifests, which never change
	chainID         string
	officials       []ed25519.PublicKey
	elections       map[string]*electionCache
	verified        *verifyCache
	ballots         ballotBatcher

	// fatal is the error that halted the application (nil while it runs);
	// onFatal is called once with it.
	fatal      atomic.Pointer[error]
	onFatal    func(error)
	checkPanic func(tx []byte) // tests: called at the start of CheckTx
}

var _ abci.Application = (*App)(nil)

// electionCache holds the parsed, immutable parts of an election.
type electionCache struct {
	manifest  *ballot.Manifest
	ceremony  *trustee.Ceremony
	election  *ballot.Election // nil until the key ceremony is resolved
	officials map[string]bool
	hash      []byte // manifest hash, to notice a redefined election
}

// NewApp returns the application over st. The chain's genesis app_state
// (GenesisState, JSON) authorises the officials' keys.
func NewApp(st store.Store, opts AppOptions) (*App, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &App{store: st, log: log, now: now, onFatal: opts.OnFatal, elections: map[string]*electionCache{}, records: map[string]cachedRecord{}, manifests: map[string][]byte{}, verified: newVerifyCache(200_000)}
	ctx := context.Background()
	if id, err := st.Get(ctx, bucketMeta, []byte("chain-id")); err == nil {
		a.chainID = string(id)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if raw, err := st.Get(ctx, bucketMeta, []byte("app-state")); err == nil {
		if _, a.officials, err = ParseGenesisState(raw); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	last, err := st.LastBlock(ctx)
	if err != nil {
		return nil, err
	}
	a.lastAppHash, a.committedHeight = last.AppHash, last.Height
	return a, nil
}

// Info tells CometBFT the last committed height and app hash, from which it
// replays blocks after a restart or a crash.
func (a *App) Info(ctx context.Context, _ *abci.InfoRequest) (*abci.InfoResponse, error) {
	last, err := a.store.LastBlock(ctx)
	if err != nil {
		return nil, err
	}
	return &abci.InfoResponse{Data: "evote", Version: "1", AppVersion: 1, LastBlockHeight: last.Height, LastBlockAppHash: last.AppHash}, nil
}

// InitChain records the chain id and the genesis app_state (the officials).
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	_, officials, err := ParseGenesisState(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	o := newOverlay(a.store)
	o.put(bucketMeta, []byte("chain-id"), []byte(req.ChainId))
	o.put(bucketMeta, []byte("app-state"), req.AppStateBytes)
	a.mu.Lock()
	a.chainID, a.officials = req.ChainId, officials
	a.mu.Unlock()
	a.initWrites = o
	return &abci.InitChainResponse{}, nil
}

// CheckTx runs the same checks as block execution against the committed
// state (and the current time), without keeping any change.
func (a *App) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (resp *abci.CheckTxResponse, _ error) {
	defer func() {
		// A bug in a check must not take the node down with it, nor let the
		// transaction in: it is refused and logged with its hash.
		if r := recover(); r != nil {
			h := txHash(req.Tx)
			a.log.Error("chain: panic while checking a transaction", "tx", hexHash(h[:]), "panic", r, "stack", string(debug.Stack()))
			resp = &abci.CheckTxResponse{Code: CodeInternal, Log: "internal error: the node failed while checking this transaction", Codespace: Codespace}
		}
	}()
	if a.checkPanic != nil {
		a.checkPanic(req.Tx)
	}
	tx, err := DecodeTx(req.Tx)
	if err != nil {
		return &abci.CheckTxResponse{Code: CodeMalformed, Log: err.Error(), Codespace: Codespace}, nil
	}
	o := newOverlay(a.store)
	o.committedView = true
	x := &execution{app: a, ctx: ctx, o: o, time: a.now(), raw: req.Tx}
	_, err = x.apply(tx)
	if ferr := o.failed(); ferr != nil {
		// Whatever the check made of it, a transaction checked against a
		// state that could not be read is refused (and may be sent again).
		a.log.Warn("chain: CheckTx could not read the state", "err", ferr)
		return &abci.CheckTxResponse{Code: CodeInternal, Log: "internal error: the node could not read its state; try again or another node", Codespace: Codespace}, nil
	}
	if err != nil {
		code, log := txErrorCode(err)
		return &abci.CheckTxResponse{Code: code, Log: log, Codespace: Codespace}, nil
	}
	return &abci.CheckTxResponse{Code: abci.CodeTypeOK}, nil
}

// FinalizeBlock executes a decided block: it verifies the proofs of all its
// not yet verified ballots in one batch, then applies each transaction in
// order to the block's overlay, and returns the results and the new app
// hash. Nothing is stored before Commit.
//
// A failure of the store (a read that returned neither a value nor "not
// found") makes the block's outcome unknown on this node: FinalizeBlock then
// returns an error, which stops the node's consensus (the ABCI contract),
// stores nothing, and halts the application (Fatal). After a restart, once
// the store works again, CometBFT executes the block again and the node
// agrees with its peers. A storage failure is never a transaction's result.
func (a *App) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	if err := a.Fatal(); err != nil {
		return nil, err
	}
	o := newOverlay(a.store)
	if a.initWrites != nil {
		o = a.initWrites
	}
	a.preverify(ctx, o, req.Txs)
	if err := o.failed(); err != nil {
		return nil, a.halt(fmt.Errorf("chain: finalizing block %d: %w", req.Height, err))
	}
	x := &execution{app: a, ctx: ctx, o: o, time: req.Time, height: req.Height, totals: map[string][]crypto.Ciphertext{}}
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i, raw := range req.Txs {
		x.index, x.raw = i, raw
		res := &abci.ExecTxResult{Code: abci.CodeTypeOK}
		tx, err := DecodeTx(raw)
		var events []abci.Event
		if err == nil {
			// Each transaction writes to its own overlay, merged only if it is
			// accepted: a rejected transaction changes nothing.
			x.o = o.child()
			events, err = x.apply(tx)
			if err == nil {
				o.merge(x.o)
			}
			x.o = o
		}
		if ferr := o.failed(); ferr != nil {
			return nil, a.halt(fmt.Errorf("chain: finalizing block %d, transaction %d: %w", req.Height, i, ferr))
		}
		if err != nil {
			res.Code, res.Log = txErrorCode(err)
			res.Codespace = Codespace
		} else {
			res.Events = events
		}
		results[i] = res
	}
	x.flushTotals()
	a.initWrites = nil
	appHash := a.lastAppHash
	if len(o.writes) > 0 {
		// A block that changes nothing keeps the app hash, so an idle chain
		// needs no proof blocks and CometBFT can stop making blocks.
		appHash = nextAppHash(a.lastAppHash, req.Height, o.changesHash())
	}
	a.block = o
	a.pending = &store.Changes{Height: req.Height, AppHash: appHash, Writes: o.writes}
	return &abci.FinalizeBlockResponse{TxResults: results, AppHash: appHash}, nil
}

// Commit stores the finalised block's changes atomically.
func (a *App) Commit(ctx context.Context, _ *abci.CommitRequest) (*abci.CommitResponse, error) {
	if err := a.Fatal(); err != nil {
		return nil, err
	}
	if a.pending == nil {
		return &abci.CommitResponse{}, nil
	}
	if err := a.store.Commit(ctx, a.pending); err != nil {
		// The block cannot be stored: stop rather than diverge. CometBFT
		// replays it after the operator fixes the store.
		return nil, a.halt(&StorageError{Op: fmt.Sprintf("commit block %d", a.pending.Height), Err: err})
	}
	a.lastAppHash = a.pending.AppHash
	a.mu.Lock()
	a.committedHeight = a.pending.Height
	a.mu.Unlock()
	a.pending, a.block = nil, nil
	return &abci.CommitResponse{}, nil
}

// Fatal returns the error that halted the application, or nil.
func (a *App) Fatal() error {
	if p := a.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// halt stops the application for good with err (the first error wins), logs
// it and calls OnFatal. It returns the error that halted the application.
func (a *App) halt(err error) error {
	if !a.fatal.CompareAndSwap(nil, &err) {
		return a.Fatal()
	}
	a.log.Error("chain: the node's store failed while executing a block; the node stops (nothing of the block was stored; it is executed again after a restart)", "err", err)
	if a.onFatal != nil {
		a.onFatal(err)
	}
	return err
}

// election returns the parsed election id as of the overlay's state.
func (a *App) election(ctx context.Context, o *overlay, id string) (*ElectionRecord, *electionCache, error) {
	rec, err := a.record(ctx, o, id)
	if err != nil {
		return nil, nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ec := a.elections[id]
	if ec == nil || !bytes.Equal(ec.hash, rec.ManifestHash) {
		m, err := ballot.DecodeManifestJSON(rec.Manifest)
		if err != nil {
			return nil, nil, fmt.Errorf("chain: stored manifest of %q: %w", id, err)
		}
		cer, err := trustee.NewCeremony(m)
		if err != nil {
			return nil, nil, fmt.Errorf("chain: stored manifest of %q: %w", id, err)
		}
		ec = &electionCache{manifest: m, ceremony: cer, officials: map[string]bool{}, hash: rec.ManifestHash}
		for _, off := range m.Officials {
			ec.officials[string(off.PublicKey)] = true
		}
		a.elections[id] = ec
	}
	if ec.election == nil && rec.JointKey != nil {
		k, err := crypto.DecodeNonIdentityPoint(rec.JointKey)
		if err != nil {
			return nil, nil, fmt.Errorf("chain: stored key of %q: %w", id, err)
		}
		if ec.election, err = ballot.NewElection(ec.manifest, k); err != nil {
			return nil, nil, err
		}
	}
	return rec, ec, nil
}

// record reads an election's record. On a view of the committed state (as in
// CheckTx, which runs for every transaction and again for the whole mempool
// after each block) it keeps the parsed record until the next commit and
// hands out copies.
func (a *App) record(ctx context.Context, o *overlay, id string) (*ElectionRecord, error) {
	committed := o.parent == nil && len(o.writes) == 0 && o.committedView
	a.mu.Lock()
	height := a.committedHeight
	if c, ok := a.records[id]; committed && ok && c.height == height {
		a.mu.Unlock()
		return c.rec.clone(), nil
	}
	a.mu.Unlock()
	var rec ElectionRecord
	ok, err := o.getJSON(ctx, bucketElection, []byte(id), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, txErr(CodeUnknownElection, "no election %q on this chain", id)
	}
	if rec.Manifest, err = a.manifest(ctx, o, id); err != nil {
		return nil, fmt.Errorf("chain: manifest of %q: %w", id, err)
	}
	if committed {
		a.mu.Lock()
		// Read possibly after a commit: label it with the height seen before
		// the read, so that an entry is never used for a later state.
		a.records[id] = cachedRecord{height: height, rec: rec.clone()}
		a.mu.Unlock()
	}
	return &rec, nil
}

// manifest returns an election's manifest (canonical JSON; callers must not
// change it). A manifest is written once, when its election is defined, and
// never changes, so one read from the committed store is kept for the life of
// the process; a manifest written by the block being executed is read from
// its overlay and not kept.
func (a *App) manifest(ctx context.Context, o *overlay, id string) ([]byte, error) {
	k := []byte(id)
	if o.written(bucketManifest, k) {
		return o.get(ctx, bucketManifest, k)
	}
	a.mu.Lock()
	m, ok := a.manifests[id]
	a.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := o.read(ctx, bucketManifest, k)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.manifests[id] = m
	a.mu.Unlock()
	return m, nil
}

// cachedRecord is a parsed election record of a committed height.
type cachedRecord struct {
	height int64
	rec    *ElectionRecord
}

// ElectionRecord returns the committed state of an election.
func (a *App) ElectionRecord(ctx context.Context, id string) (*ElectionRecord, error) {
	rec, _, err := a.election(ctx, newOverlay(a.store), id)
	return rec, err
}

// Election returns the committed election's parsed manifest and, once its
// key exists, the ballot.Election for encrypting and checking ballots.
func (a *App) Election(ctx context.Context, id string) (*ballot.Manifest, *ballot.Election, error) {
	_, ec, err := a.election(ctx, newOverlay(a.store), id)
	if err != nil {
		return nil, nil, err
	}
	return ec.manifest, ec.election, nil
}

// BallotByTrackingCode returns the committed record of the ballot with the
// given tracking code, or an error with CodeNotFound.
func (a *App) BallotByTrackingCode(ctx context.Context, electionID, code string) (*BallotRecord, bool, error) {
	norm, err := ballot.NormalizeTrackingCode(code)
	if err != nil {
		return nil, false, txErr(CodeMalformed, "%v", err)
	}
	o := newOverlay(a.store)
	h, err := o.get(ctx, bucketTracking, key(electionID, []byte(norm)))
	if errors.Is(err, store.ErrNotFound) {
		// An audited ballot has a tracking code too.
		return nil, false, txErr(CodeNotFound, "no ballot with tracking code %s in election %q", norm, electionID)
	}
	if err != nil {
		return nil, false, err
	}
	var rec BallotRecord
	if ok, err := o.getJSON(ctx, bucketBallot, key(electionID, h), &rec); err != nil {
		return nil, false, err
	} else if ok {
		return &rec, false, nil
	}
	var ar AuditRecord
	if ok, err := o.getJSON(ctx, bucketAudited, key(electionID, h), &ar); err != nil {
		return nil, false, err
	} else if ok {
		return &BallotRecord{Hash: ar.Hash, TrackingCode: ar.TrackingCode, Height: ar.Height, Index: ar.Index}, true, nil
	}
	return nil, false, txErr(CodeNotFound, "no ballot with tracking code %s in election %q", norm, electionID)
}

// CeremonyMessages returns the key-ceremony messages of an election that are
// on the chain, in round order, as the trustees' tools read them.
func (a *App) CeremonyMessages(ctx context.Context, electionID string) ([]*trustee.Message, error) {
	_, ec, err := a.election(ctx, newOverlay(a.store), electionID)
	if err != nil {
		return nil, err
	}
	var out []*trustee.Message
	for _, kind := range ceremonyKinds {
		for l := 1; l <= ec.ceremony.Params.N; l++ {
			b, err := a.store.Get(ctx, bucketCeremony, key(electionID, []byte(kind), u64(uint64(l))))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			m, err := trustee.DecodeMessage(b)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Totals returns the election's committed encrypted running totals: one
// ciphertext per selection of every contest, in manifest order.
func (a *App) Totals(ctx context.Context, electionID string) ([]crypto.Ciphertext, error) {
	_, ec, err := a.election(ctx, newOverlay(a.store), electionID)
	if err != nil {
		return nil, err
	}
	x := &execution{app: a, ctx: ctx, o: newOverlay(a.store)}
	return x.loadTotals(ec)
}

// Shares returns the decryption shares on the chain, by trustee index.
func (a *App) Shares(ctx context.Context, electionID string) ([]crypto.DecryptionShare, error) {
	rec, err := a.ElectionRecord(ctx, electionID)
	if err != nil {
		return nil, err
	}
	var out []crypto.DecryptionShare
	for _, l := range rec.Shares {
		raw, err := a.store.Get(ctx, bucketShare, key(electionID, u64(uint64(l))))
		if err != nil {
			return nil, err
		}
		s, err := crypto.DecodeDecryptionShare(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Query answers ABCI queries on the committed state: "election/ID" and
// "ballot/ID/TRACKING-CODE" return JSON records, "ceremony/ID" the
// ceremony's messages (a JSON array of message files), "totals/ID" the
// running encrypted totals ({"totals": base64}), "shares/ID" the
// decryption shares ({"shares": [base64, …]}).
func (a *App) Query(ctx context.Context, req *abci.QueryRequest) (*abci.QueryResponse, error) {
	parts := strings.Split(strings.Trim(req.Path, "/"), "/")
	var v any
	var err error
	switch {
	case len(parts) == 2 && parts[0] == "election":
		v, err = a.ElectionRecord(ctx, parts[1])
	case len(parts) == 3 && parts[0] == "ballot":
		v, _, err = a.BallotByTrackingCode(ctx, parts[1], parts[2])
	case len(parts) == 2 && parts[0] == "totals":
		var t []crypto.Ciphertext
		t, err = a.Totals(ctx, parts[1])
		v = map[string][]byte{"totals": crypto.EncodeCiphertexts(t)}
	case len(parts) == 2 && parts[0] == "shares":
		var shares []crypto.DecryptionShare
		shares, err = a.Shares(ctx, parts[1])
		var encoded [][]byte
		for _, sh := range shares {
			encoded = append(encoded, sh.Encode())
		}
		v = map[string][][]byte{"shares": encoded}
	case len(parts) == 2 && parts[0] == "ceremony":
		var msgs []*trustee.Message
		msgs, err = a.CeremonyMessages(ctx, parts[1])
		var files []json.RawMessage
		for _, m := range msgs {
			f, _ := trustee.EncodeMessage(m)
			files = append(files, f)
		}
		v = files
	default:
		return &abci.QueryResponse{Code: CodeNotFound, Log: fmt.Sprintf("unknown query path %q", req.Path), Codespace: Codespace}, nil
	}
	if err != nil {
		code, log := txErrorCode(err)
		return &abci.QueryResponse{Code: code, Log: log, Codespace: Codespace}, nil
	}
	// Not json.Marshal: it would HTML-escape the embedded canonical manifest.
	b, _ := jsonout.Marshal(v)
	last, _ := a.store.LastBlock(ctx)
	return &abci.QueryResponse{Code: abci.CodeTypeOK, Value: b, Height: last.Height}, nil
}

// txHash is the SHA-256 of a transaction's bytes, as CometBFT names it.
func txHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

func hexHash(b []byte) string { return hex.EncodeToString(b) }
