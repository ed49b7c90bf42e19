package record

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Progress, if set, is called after each block with the height written
	// and the last height.
	Progress func(height, last int64)
	// Fetchers is the number of blocks fetched ahead concurrently (4 if 0).
	Fetchers int
}

// Export writes the record of election electionID from the node behind c
// into dir, which must not exist or be empty: the genesis, every block from
// height 1 with its commit and results, and the convenience files. It covers
// the heights up to the one at which the node answered its state queries, so
// the state files and the blocks agree. Blocks are streamed: memory does not
// grow with the chain, only with the number of ballots (a small index entry
// each).
func Export(ctx context.Context, c rpcclient.Client, electionID, dir string) error {
	return ExportWithOptions(ctx, c, electionID, dir, ExportOptions{})
}

// ExportWithOptions is Export with options.
func ExportWithOptions(ctx context.Context, c rpcclient.Client, electionID, dir string, opts ExportOptions) (err error) {
	gen, err := c.Genesis(ctx)
	if err != nil {
		return fmt.Errorf("record: genesis: %w", err)
	}
	if gen.Genesis == nil {
		return errors.New("record: the node returned no genesis")
	}
	// The canonical form: its SHA-256 is the genesis fingerprint that
	// `evote node genesis` and `node show` print (CanonicalGenesis).
	genJSON, err := CanonicalGenesis(gen.Genesis)
	if err != nil {
		return err
	}
	st, height, err := queryState(ctx, c, electionID)
	if err != nil {
		return err
	}
	w, err := NewWriter(dir, gen.Genesis.ChainID, electionID)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := w.WriteFile(GenesisFile, genJSON); err != nil {
		return err
	}
	d := NewDeriver(electionID)
	if err := fetchBlocks(ctx, c, height, opts, func(e *Entry) error {
		d.Block(e)
		if err := w.AddBlock(e); err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(e.Height, height)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := d.WriteFiles(w, st); err != nil {
		return err
	}
	return w.Close()
}

// NodeState is what a node's queries say about the election: the values
// of the queries election/ID, ceremony/ID, totals/ID and shares/ID
// (chain.App.Query).
type NodeState struct {
	Election json.RawMessage
	Ceremony json.RawMessage
	Totals   json.RawMessage
	Shares   json.RawMessage
	rec      rules.ElectionRecord
}

// queryState asks the node for the election's state, all at one height:
// it repeats the queries until the election query's height does not move.
func queryState(ctx context.Context, c rpcclient.Client, id string) (*NodeState, int64, error) {
	for range 20 {
		var st NodeState
		h1, err := query(ctx, c, "election/"+id, &st.Election)
		if err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal(st.Election, &st.rec); err != nil {
			return nil, 0, fmt.Errorf("record: the node's election record: %w", err)
		}
		if _, err := query(ctx, c, "ceremony/"+id, &st.Ceremony); err != nil {
			return nil, 0, err
		}
		if st.rec.TotalsHeight != 0 {
			if _, err := query(ctx, c, "totals/"+id, &st.Totals); err != nil {
				return nil, 0, err
			}
		}
		if len(st.rec.Shares) > 0 {
			if _, err := query(ctx, c, "shares/"+id, &st.Shares); err != nil {
				return nil, 0, err
			}
		}
		h2, err := query(ctx, c, "election/"+id, nil)
		if err != nil {
			return nil, 0, err
		}
		if h1 == h2 && h1 > 0 {
			return &st, h1, nil
		}
	}
	return nil, 0, errors.New("record: the chain keeps moving; could not read the election's state at one height")
}

func query(ctx context.Context, c rpcclient.Client, path string, v *json.RawMessage) (int64, error) {
	res, err := c.ABCIQuery(ctx, path, nil)
	if err != nil {
		return 0, fmt.Errorf("record: query %s: %w", path, err)
	}
	if res.Response.Code != 0 {
		return 0, fmt.Errorf("record: query %s: %s", path, res.Response.Log)
	}
	if v != nil {
		*v = append(json.RawMessage(nil), res.Response.Value...)
	}
	return res.Response.Height, nil
}

// fetchBlocks fetches heights 1..last with a few requests in flight and
// calls fn in height order.
func fetchBlocks(ctx context.Context, c rpcclient.Client, last int64, opts ExportOptions, fn func(*Entry) error) error {
	workers := opts.Fetchers
	if workers <= 0 {
		workers = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		e   *Entry
		err error
	}
	slots := make(chan chan result, workers)
	go func() {
		defer close(slots)
		for h := int64(1); h <= last; h++ {
			ch := make(chan result, 1)
			select {
			case slots <- ch:
			case <-ctx.Done():
				return
			}
			go func(h int64) {
				e, err := fetchBlock(ctx, c, h)
				ch <- result{e, err}
			}(h)
		}
	}()
	for ch := range slots {
		r := <-ch
		if r.err != nil {
			return r.err
		}
		if err := fn(r.e); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func fetchBlock(ctx context.Context, c rpcclient.Client, h int64) (*Entry, error) {
	b, err := c.Block(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("record: block %d: %w", h, err)
	}
	cm, err := c.Commit(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("record: commit %d: %w", h, err)
	}
	res, err := c.BlockResults(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("record: block results %d: %w", h, err)
	}
	if b.Block == nil || cm.Commit == nil {
		return nil, fmt.Errorf("record: height %d: the node returned no block or commit", h)
	}
	e := &Entry{Height: h, BlockID: b.BlockID, Block: b.Block, Commit: cm.Commit, AppHash: res.AppHash}
	e.Results = make([]TxResult, len(res.TxResults))
	for i, r := range res.TxResults {
		e.Results[i] = TxResult{Code: r.Code, Data: r.Data, Log: r.Log, Codespace: r.Codespace, GasWanted: r.GasWanted, GasUsed: r.GasUsed}
	}
	return e, nil
}

// Deriver builds the convenience files from the blocks and their results,
// as the node recorded them (the verifier re-derives them independently).
type Deriver struct {
	electionID string
	manifest   []byte
	rollHeader []byte
	rollChunks map[uint64][]byte
	ballots    []BallotEntry
	credIndex  map[string]int // credential → index in ballots of its latest ballot
	audits     []AuditEntry
	result     []uint64
	resultAt   int64
}

// NewDeriver returns a Deriver for election electionID.
func NewDeriver(electionID string) *Deriver {
	return &Deriver{electionID: electionID, credIndex: map[string]int{}}
}

// Block takes in the next block (in height order).
func (d *Deriver) Block(e *Entry) {
	for i, raw := range e.Block.Txs {
		if i >= len(e.Results) || e.Results[i].Code != 0 {
			continue
		}
		tx, err := wire.Decode(raw)
		if err != nil || tx.Election() != d.electionID {
			continue
		}
		switch tx := tx.(type) {
		case *wire.DefineElection:
			d.manifest = tx.Manifest
		case *wire.CredentialRoll:
			if d.rollChunks == nil {
				d.rollChunks = map[uint64][]byte{}
			}
			d.rollHeader = tx.Header
			d.rollChunks[tx.Chunk] = tx.Entries
		case *wire.Ballot:
			h, cred, ok := CastInfo(tx.Cast)
			if !ok {
				continue
			}
			be := BallotEntry{TrackingCode: ballot.TrackingCode(h), Hash: hex.EncodeToString(h[:]),
				Credential: hex.EncodeToString(cred), Height: e.Height, Index: i}
			if prev, ok := d.credIndex[string(cred)]; ok {
				d.ballots[prev].ReplacedBy = be.TrackingCode
			}
			d.credIndex[string(cred)] = len(d.ballots)
			d.ballots = append(d.ballots, be)
		case *wire.Audit:
			h, ok := AuditHash(tx.File)
			if !ok {
				continue
			}
			d.audits = append(d.audits, AuditEntry{TrackingCode: ballot.TrackingCode(h), Hash: hex.EncodeToString(h[:]), Height: e.Height, Index: i})
		case *wire.Result:
			d.result, d.resultAt = tx.Counts, e.Height
		}
	}
}

// WriteFiles writes the convenience files: those derived from the blocks,
// and the node's state.
func (d *Deriver) WriteFiles(w *Writer, st *NodeState) error {
	if err := w.WriteFile(ElectionFile, append(st.Election, '\n')); err != nil {
		return err
	}
	if d.manifest != nil {
		if err := w.WriteFile(ManifestFile, d.manifest); err != nil {
			return err
		}
	}
	if len(st.Ceremony) > 0 {
		if err := w.WriteFile(CeremonyFile, append(st.Ceremony, '\n')); err != nil {
			return err
		}
	}
	if roll := d.roll(); roll != nil {
		if err := w.WriteFile(RollFile, roll); err != nil {
			return err
		}
	}
	if err := WriteLines(w, BallotsFile, d.ballots); err != nil {
		return err
	}
	if err := WriteLines(w, AuditsFile, d.audits); err != nil {
		return err
	}
	if len(st.Totals) > 0 {
		if err := w.WriteFile(TotalsFile, append(st.Totals, '\n')); err != nil {
			return err
		}
	}
	if len(st.Shares) > 0 {
		if err := w.WriteFile(SharesFile, append(st.Shares, '\n')); err != nil {
			return err
		}
	}
	if d.result != nil && d.manifest != nil {
		m, err := ballot.DecodeManifestJSON(d.manifest)
		if err != nil {
			return fmt.Errorf("record: the chain's manifest: %w", err)
		}
		if r, ok := MakeResult(m, d.resultAt, d.result); ok {
			if err := w.WriteJSON(ResultFile, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// roll rebuilds the credential roll's JSON form from the accepted chunks,
// or returns nil if it is incomplete.
func (d *Deriver) roll() []byte {
	if d.rollHeader == nil {
		return nil
	}
	hdr, err := credential.DecodeHeader(d.rollHeader)
	if err != nil || len(d.rollChunks) != hdr.Chunks() {
		return nil
	}
	// The binary roll is the header and the chunks' entries in order.
	bin := bytes.Clone(d.rollHeader)
	for i := range hdr.Chunks() {
		bin = append(bin, d.rollChunks[uint64(i)]...)
	}
	roll, err := credential.Decode(bin)
	if err != nil {
		return nil
	}
	var out bytes.Buffer
	if err := roll.WriteJSON(&out); err != nil {
		return nil
	}
	return out.Bytes()
}

// MakeResult lays out counts (one per totals position of every contest,
// manifest order: its selections, then its blank ballots with count_blank)
// by contest and selection.
func MakeResult(m *ballot.Manifest, height int64, counts []uint64) (*Result, bool) {
	r := &Result{ElectionID: m.ElectionID, Height: height}
	i := 0
	for _, c := range m.Contests {
		cr := ContestResult{Contest: c.ID}
		for _, s := range c.Selections {
			if i >= len(counts) {
				return nil, false
			}
			cr.Selections = append(cr.Selections, SelectionResult{Selection: s.ID, Count: counts[i]})
			i++
		}
		if c.CountBlank {
			if i >= len(counts) {
				return nil, false
			}
			n := counts[i]
			cr.Blank = &n
			i++
		}
		r.Contests = append(r.Contests, cr)
	}
	return r, i == len(counts)
}

// CastInfo returns the ballot hash and credential of a ballot
// transaction's field (LP(ballot) ‖ LP(signature)) without decoding the
// ballot's group elements.
func CastInfo(field []byte) (hash [32]byte, cred []byte, ok bool) {
	parts, ok := splitLP(field, 2)
	if !ok {
		return hash, nil, false
	}
	enc := parts[0]
	hdr, ok := splitLPPrefix(enc, 3)
	if !ok || len(hdr[2]) != ballot.CredentialSize {
		return hash, nil, false
	}
	return ballot.HashEncoding(enc), hdr[2], true
}

// AuditHash returns the hash of the ballot in an audit file.
func AuditHash(file []byte) ([32]byte, bool) {
	var a struct {
		Ballot []byte `json:"ballot"`
	}
	if err := json.Unmarshal(file, &a); err != nil || len(a.Ballot) == 0 {
		return [32]byte{}, false
	}
	return ballot.HashEncoding(a.Ballot), true
}

func splitLP(b []byte, n int) ([][]byte, bool) {
	parts, ok := splitLPPrefix(b, n)
	if !ok {
		return nil, false
	}
	total := 0
	for _, p := range parts {
		total += 8 + len(p)
	}
	return parts, total == len(b)
}

func splitLPPrefix(b []byte, n int) ([][]byte, bool) {
	out := make([][]byte, 0, n)
	for range n {
		if len(b) < 8 {
			return nil, false
		}
		l := binary.BigEndian.Uint64(b)
		b = b[8:]
		if l > uint64(len(b)) {
			return nil, false
		}
		out = append(out, b[:l])
		b = b[l:]
	}
	return out, true
}
