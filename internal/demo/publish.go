package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/trustee"
)

// Publish makes m the demo's election and defines it on the chain: open
// from a minute ago for two hours, the demo's official, a roll of voters
// voters, and a key made for each of its trustees. The manifest is written
// to Dir/manifest.json.
func (d *Demo) Publish(ctx context.Context, m *ballot.Manifest, voters int) error {
	d.stepf("publishing the election %q", m.ElectionID)
	now := time.Now().UTC().Truncate(time.Second)
	m.Start, m.End = now.Add(-time.Minute), now.Add(2*time.Hour)
	m.Officials = []ballot.Official{{Name: "Demo returning officer", PublicKey: d.official.Public().(ed25519.PublicKey)}}
	m.Voters = ballot.Voters{RollSize: voters}
	for i := range m.Trustees.Members {
		k, err := trustee.NewKey(rand.Reader, m.Trustees.Members[i].Name)
		if err != nil {
			return err
		}
		m.Trustees.Members[i].PublicKey = k.Identity
		d.trustees = append(d.trustees, k)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	d.Manifest = m
	if err := os.WriteFile(filepath.Join(d.cfg.Dir, "manifest.json"), m.CanonicalJSON(), 0o644); err != nil {
		return err
	}
	h, err := d.submit(ctx, 0, chain.DefineElectionTx(d.ChainID, m, d.official))
	if err != nil {
		return err
	}
	mh := m.Hash()
	d.donef("height %d, %d contests, manifest hash %s…", h, len(m.Contests), hex.EncodeToString(mh[:6]))
	return nil
}
