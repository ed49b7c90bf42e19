package demo

import (
	"context"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

// Decrypt has trustees 1 and 3 decrypt their shares of the chain's
// encrypted totals and send them, each through another node.
func (d *Demo) Decrypt(ctx context.Context, e *ballot.Election) error {
	d.stepf("trustees 1 and 3 decrypt their shares of the totals (2 of 3)")
	var t struct{ Totals []byte }
	if err := d.caughtUp(ctx, 2); err != nil {
		return err
	}
	if err := chain.QueryJSON(ctx, d.RPC(2), "totals/"+d.Manifest.ElectionID, &t); err != nil {
		return err
	}
	totals, err := crypto.DecodeCiphertexts(t.Totals, len(t.Totals)/crypto.CiphertextSize)
	if err != nil {
		return err
	}
	for _, i := range []int{0, 2} {
		share, sig, err := d.trustees[i].Decrypt(e.BaseHash, totals)
		if err != nil {
			return err
		}
		if _, err := d.submit(ctx, i, &wire.Share{ElectionID: d.Manifest.ElectionID, Trustee: uint64(share.Trustee), Share: share.Encode(), Signature: sig.Encode()}); err != nil {
			return err
		}
	}
	d.donef("%d totals decrypted by each", len(totals))
	return nil
}
