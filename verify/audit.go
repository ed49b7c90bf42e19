package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/record"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// AuditReport is the outcome of checking an audited ballot file a voter
// saved: whether it verifies, the choices it reveals, and where the chain
// holds that ballot.
type AuditReport struct {
	ElectionID   string           `json:"election_id"`
	TrackingCode string           `json:"tracking_code"`
	Valid        bool             `json:"valid"`
	Error        string           `json:"error,omitempty"`
	Choices      []ContestChoices `json:"choices,omitempty"`
	// OnChain says where the ballot is: "audited" or "cast" (which would
	// mean the device cast a ballot whose secrets it revealed), or "" if
	// the chain does not hold it.
	OnChain string `json:"on_chain,omitempty"`
	Height  int64  `json:"height,omitempty"`
	TxIndex int    `json:"tx_index,omitempty"`
}

// ContestChoices are the revealed marks of one contest.
type ContestChoices struct {
	Contest    string            `json:"contest"`
	Title      string            `json:"title"`
	Selections []SelectionChoice `json:"selections"`
}

// SelectionChoice is one selection and whether it was marked.
type SelectionChoice struct {
	Selection string `json:"selection"`
	Title     string `json:"title"`
	Marked    bool   `json:"marked"`
}

// AuditRecord checks an audited ballot file against the election of the
// record in dir. The manifest and the election key are re-derived from the
// record's blocks (the election definition and the key ceremony), not read
// from its convenience files; the tracking code is looked up among the
// accepted ballot and audit transactions. It does not verify the record
// (Record does).
func AuditRecord(ctx context.Context, dir string, file []byte) (*AuditReport, error) {
	rec, err := record.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := newVerifier(rec, Options{})
	v.checkGenesis()
	if !v.genesisOK {
		return nil, fmt.Errorf("verify: the record's genesis does not decode")
	}
	// The election's key: its definition and key ceremony re-executed with
	// the rules (no other transaction changes either).
	id := rec.Index.ElectionID
	st := rules.NewMemState()
	rl := rules.New(v.chainID, v.officials)
	type place struct {
		kind   string
		height int64
		index  int
	}
	seen := map[[32]byte]place{}
	err = rec.Blocks(1, rec.Index.LastHeight, nil, func(en *record.Entry) error {
		blk := rl.Block(en.Height, en.Block.Header.Time)
		for i, raw := range en.Block.Txs {
			tx, err := wire.Decode(raw)
			if err != nil || tx.Election() != id || i >= len(en.Results) || en.Results[i].Code != 0 {
				continue
			}
			switch tx := tx.(type) {
			case *wire.DefineElection, *wire.Ceremony:
				layer := st.Layer()
				if _, err := blk.Apply(layer, rules.Tx{Raw: raw, Tx: tx, Index: i}); err == nil {
					layer.Merge()
				}
			case *wire.Ballot:
				if h, _, ok := record.CastInfo(tx.Cast); ok {
					if _, dup := seen[h]; !dup {
						seen[h] = place{"cast", en.Height, i}
					}
				}
			case *wire.Audit:
				if h, ok := record.AuditHash(tx.File); ok {
					if _, dup := seen[h]; !dup {
						seen[h] = place{"audited", en.Height, i}
					}
				}
			}
		}
		return ctx.Err()
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	_, ec, err := rl.Election(st, id)
	if err != nil || ec.Ballot == nil {
		return nil, fmt.Errorf("verify: the record holds no election %q with a key", id)
	}
	election, manifest := ec.Ballot, ec.Manifest
	r := &AuditReport{ElectionID: id}
	a, err := election.DecodeAudit(file)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	h := a.Ballot.Hash()
	r.TrackingCode = ballot.TrackingCode(h)
	if p, ok := seen[h]; ok {
		r.OnChain, r.Height, r.TxIndex = p.kind, p.height, p.index
	}
	pt, err := election.VerifyAudit(a)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	r.Valid = true
	contests, _ := manifest.StyleContests(pt.StyleID)
	for _, c := range contests {
		cc := ContestChoices{Contest: c.ID, Title: c.Title}
		marked := map[string]bool{}
		for _, s := range pt.Choices[c.ID] {
			marked[s] = true
		}
		for _, s := range c.Selections {
			cc.Selections = append(cc.Selections, SelectionChoice{Selection: s.ID, Title: s.Title, Marked: marked[s.ID]})
		}
		r.Choices = append(r.Choices, cc)
	}
	return r, nil
}

// AuditNode is AuditRecord against a node: it exports the node's record
// into a temporary folder first.
func AuditNode(ctx context.Context, c rpcclient.Client, electionID string, file []byte) (*AuditReport, error) {
	tmp, err := os.MkdirTemp("", "evote-audit-")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "record")
	if err := record.Export(ctx, c, electionID, dir); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return AuditRecord(ctx, dir, file)
}
