package largerecord

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/record"
)

// Validators is the number of authorities that sign every block of a
// generated record.
const Validators = 4

// Chain makes the blocks of a chain of authorities without consensus: it
// runs the real application (chain.App over Pebble) on each block for the
// results and app hashes, and makes and signs each block and its commit with
// CometBFT's types and the authorities' keys, as the authorities would commit
// it when all of them sign. Every block is added to the record as it is made.
// It is legitimate test data: every block is exactly what such a chain
// would commit.
type Chain struct {
	chainID string
	privs   map[string]cmted25519.PrivKey // by address
	vals    *types.ValidatorSet
	params  *types.ConsensusParams
	store   *pebblestore.Store
	app     *chain.App
	w       *record.Writer
	d       *record.Deriver
	t0      time.Time

	height      int64
	prevID      types.BlockID
	prevCommit  *types.Commit
	prevResults []byte
	prevApp     []byte
	// appHash, if set, replaces the application's app hash of a block.
	appHash func(height int64, got []byte) []byte
}

// ChainOptions tune a Chain.
type ChainOptions struct {
	// Validators is the number of authorities (Validators if 0).
	Validators int
	// AppHash, if set, replaces the application's app hash of each block
	// (for tests: a chain whose nodes hold another state than the rules
	// give).
	AppHash func(height int64, got []byte) []byte
}

// NewChain starts a chain's application on a Pebble store in stateDir and
// the record of election electionID in recordDir, whose genesis (at t0, with
// appState) it writes. Block h has time t0 + h seconds. Close closes the
// store.
func NewChain(ctx context.Context, stateDir, recordDir, chainID, electionID string, appState []byte, t0 time.Time, opts ChainOptions) (*Chain, error) {
	if opts.Validators <= 0 {
		opts.Validators = Validators
	}
	s := &Chain{chainID: chainID, privs: map[string]cmted25519.PrivKey{}, params: types.DefaultConsensusParams(), t0: t0, appHash: opts.AppHash}
	s.params.Block.MaxBytes = node.MaxBlockBytes
	s.params.Block.MaxGas = -1
	doc := &types.GenesisDoc{ChainID: chainID, GenesisTime: t0, InitialHeight: 1, ConsensusParams: s.params, AppState: appState}
	var vals []*types.Validator
	for i := range opts.Validators {
		priv := cmted25519.GenPrivKey()
		s.privs[string(priv.PubKey().Address())] = priv
		vals = append(vals, types.NewValidator(priv.PubKey(), 10))
		doc.Validators = append(doc.Validators, types.GenesisValidator{Address: priv.PubKey().Address(), PubKey: priv.PubKey(), Power: 10, Name: fmt.Sprintf("authority-%d", i+1)})
	}
	s.vals = types.NewValidatorSet(vals)
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, err
	}
	var err error
	if s.store, err = pebblestore.New(ctx, pebblestore.Config{Dir: filepath.Join(stateDir, "state")}); err != nil {
		return nil, err
	}
	if s.app, err = chain.NewApp(s.store, chain.AppOptions{Now: func() time.Time { return s.blockTime(s.height) }}); err != nil {
		s.store.Close()
		return nil, err
	}
	if _, err := s.app.InitChain(ctx, &abci.InitChainRequest{ChainId: chainID, AppStateBytes: appState}); err != nil {
		s.store.Close()
		return nil, err
	}
	if s.w, err = record.NewWriter(recordDir, chainID, electionID); err != nil {
		s.store.Close()
		return nil, err
	}
	g, err := record.CanonicalGenesis(doc)
	if err != nil {
		s.store.Close()
		return nil, err
	}
	if err := s.w.WriteFile(record.GenesisFile, g); err != nil {
		s.store.Close()
		return nil, err
	}
	s.d = record.NewDeriver(electionID)
	return s, nil
}

func (s *Chain) blockTime(h int64) time.Time { return s.t0.Add(time.Duration(h) * time.Second) }

// Block executes, makes, signs and records the next block; every
// transaction must be accepted.
func (s *Chain) Block(ctx context.Context, txs [][]byte) error {
	s.height++
	h := s.height
	tm := s.blockTime(h)
	res, err := s.app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: h, Time: tm, Txs: txs})
	if err != nil {
		return err
	}
	if _, err := s.app.Commit(ctx, &abci.CommitRequest{}); err != nil {
		return err
	}
	for i, r := range res.TxResults {
		if r.Code != 0 {
			return fmt.Errorf("largerecord: height %d transaction %d: code %d: %s", h, i, r.Code, r.Log)
		}
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
		ProposerAddress: s.vals.Validators[int(h)%len(s.vals.Validators)].Address,
	}, LastCommit: last}
	for _, tx := range txs {
		b.Data.Txs = append(b.Data.Txs, tx)
	}
	b.DataHash, b.EvidenceHash, b.LastCommitHash = b.Data.Hash(), b.Evidence.Hash(), last.Hash()
	ps, err := b.MakePartSet(types.BlockPartSizeBytes)
	if err != nil {
		return err
	}
	id := types.BlockID{Hash: b.Header.Hash(), PartSetHeader: ps.Header()}
	cm := &types.Commit{Height: h, BlockID: id}
	for i, v := range s.vals.Validators {
		cm.Signatures = append(cm.Signatures, types.CommitSig{BlockIDFlag: types.BlockIDFlagCommit, ValidatorAddress: v.Address,
			Timestamp: tm.Add(time.Duration(400+50*i) * time.Millisecond)})
		sig, err := s.privs[string(v.Address)].Sign(cm.VoteSignBytes(s.chainID, int32(i)))
		if err != nil {
			return err
		}
		cm.Signatures[i].Signature = sig
	}
	e := &record.Entry{Height: h, BlockID: id, Block: b, Commit: cm, AppHash: res.AppHash}
	for _, r := range res.TxResults {
		e.Results = append(e.Results, record.TxResult{Code: r.Code, Data: r.Data, Log: r.Log, Codespace: r.Codespace, GasWanted: r.GasWanted, GasUsed: r.GasUsed})
	}
	s.d.Block(e)
	if err := s.w.AddBlock(e); err != nil {
		return err
	}
	s.prevID, s.prevCommit, s.prevApp = id, cm, res.AppHash
	s.prevResults = types.NewResults(res.TxResults).Hash()
	return nil
}

func (s *Chain) query(ctx context.Context, path string) json.RawMessage {
	r, err := s.app.Query(ctx, &abci.QueryRequest{Path: path})
	if err != nil || r.Code != 0 {
		return nil
	}
	return r.Value
}

// App is the chain's application.
func (s *Chain) App() *chain.App { return s.app }

// Height is the last block's height.
func (s *Chain) Height() int64 { return s.height }

// Finish writes the convenience files of election id from the application's
// state, as `evote record export` does, and record.json.
func (s *Chain) Finish(ctx context.Context, id string) error {
	st := &record.NodeState{Election: s.query(ctx, "election/"+id), Ceremony: s.query(ctx, "ceremony/"+id),
		Totals: s.query(ctx, "totals/"+id), Shares: s.query(ctx, "shares/"+id)}
	if err := s.d.WriteFiles(s.w, st); err != nil {
		return err
	}
	return s.w.Close()
}

// Close closes the application's store.
func (s *Chain) Close() error { return s.store.Close() }
