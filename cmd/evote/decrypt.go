package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

func init() {
	registerSub("trustee", &cli.Command{
		Name:  "decrypt",
		Usage: "decrypt your share of an election's encrypted totals and publish it, signed, on the chain",
		Description: "Fetches the encrypted totals from a node, checks that the chain accepted them (the authority\n" +
			"nodes recompute them from the ballots) and that they belong to the election in your configuration,\n" +
			"then publishes your partial decryption with its proofs. Any threshold k of the trustees suffice.\n" +
			"With --wait DURATION it waits that long for the tally service to publish the totals after close.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "election", Required: true, Usage: "the election configuration `FILE` (YAML)"},
			&cli.StringFlag{Name: "key", Required: true, Usage: "your trustee key `FILE`"},
			nodeFlag,
			&cli.DurationFlag{Name: "wait", Usage: "wait up to `DURATION` (e.g. 5m) for the encrypted totals to be published"},
		},
		Action: trusteeDecrypt,
	})
}

func trusteeDecrypt(c *cli.Context) error {
	m, err := config.Load(c.String("election"))
	if err != nil {
		return err
	}
	k, _, err := loadKey(c)
	if err != nil {
		return err
	}
	wait := c.Duration("wait")
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute+wait)
	defer cancel()
	node, _, err := dialNode(ctx, c.String("node"))
	if err != nil {
		return err
	}
	var rec rules.ElectionRecord
	for deadline := time.Now().Add(wait); ; {
		if err := chain.QueryJSON(ctx, node, "election/"+m.ElectionID, &rec); err != nil {
			return err
		}
		if rec.TotalsHeight != 0 || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if mh := m.Hash(); string(rec.ManifestHash) != string(mh[:]) {
		return fmt.Errorf("the chain's election %q differs from %s: do not decrypt until this is explained", m.ElectionID, c.String("election"))
	}
	if st := k.Ceremonies[m.ElectionID]; st == nil || string(st.JointKey) != string(rec.JointKey) {
		return fmt.Errorf("your key file holds no share of the key of election %q (finish the key ceremony first)", m.ElectionID)
	}
	if rec.TotalsHeight == 0 {
		return &exitError{3, fmt.Sprintf("election %q: the encrypted totals are not published yet (phase %s); try again after the tally service publishes them (or use --wait)", m.ElectionID, rec.Phase)}
	}
	var t struct{ Totals []byte }
	if err := chain.QueryJSON(ctx, node, "totals/"+m.ElectionID, &t); err != nil {
		return err
	}
	n := 0
	for _, k := range m.TotalsLayout() {
		n += k
	}
	totals, err := crypto.DecodeCiphertexts(t.Totals, n)
	if err != nil {
		return fmt.Errorf("the node sent malformed totals: %w", err)
	}
	share, sig, err := k.Decrypt(crypto.Context(rec.BaseHash), totals)
	if err != nil {
		return err
	}
	res, err := chain.Submit(ctx, node, wire.Encode(&wire.Share{ElectionID: m.ElectionID, Trustee: uint64(share.Trustee), Share: share.Encode(), Signature: sig.Encode()}), true)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "trustee %d: decryption share of %d totals published at height %d\n", share.Trustee, len(totals), res.Height)
	return nil
}
