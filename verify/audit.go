package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/record"
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
	e := newEngine(v)
	type place struct {
		kind      string
		height    int64
		index     int
		chainCode uint32
	}
	seen := map[[32]byte]place{}
	err = rec.Blocks(1, rec.Index.LastHeight, nil, func(en *record.Entry) error {
		for i, raw := range en.Block.Txs {
			tx, err := chain.DecodeTx(raw)
			if err != nil || tx.ElectionID != e.id {
				continue
			}
			code := uint32(0)
			if i < len(en.Results) {
				code = en.Results[i].Code
			}
			switch tx.Type {
			case chain.TxDefineElection:
				e.define(en, tx)
			case chain.TxCeremony:
				if e.manifest != nil {
					e.ceremony(en, tx)
				}
			case chain.TxBallot:
				if h, _, ok := record.CastInfo(tx.Fields[0]); ok && code == 0 {
					if _, dup := seen[h]; !dup {
						seen[h] = place{"cast", en.Height, i, code}
					}
				}
			case chain.TxAudit:
				if h, ok := record.AuditHash(tx.Fields[0]); ok && code == 0 {
					if _, dup := seen[h]; !dup {
						seen[h] = place{"audited", en.Height, i, code}
					}
				}
			}
		}
		return ctx.Err()
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if e.election == nil {
		return nil, fmt.Errorf("verify: the record holds no election %q with a key", e.id)
	}
	r := &AuditReport{ElectionID: e.id}
	a, err := e.election.DecodeAudit(file)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	h := a.Ballot.Hash()
	r.TrackingCode = ballot.TrackingCode(h)
	if p, ok := seen[h]; ok {
		r.OnChain, r.Height, r.TxIndex = p.kind, p.height, p.index
	}
	pt, err := e.election.VerifyAudit(a)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	r.Valid = true
	contests, _ := e.manifest.StyleContests(pt.StyleID)
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
