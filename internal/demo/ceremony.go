package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/trustee"
)

// Ceremony runs the trustees' key ceremony on the chain, each round's
// messages sent in parallel through different nodes, and checks that the
// chain's election key is the one the trustees computed.
func (d *Demo) Ceremony(ctx context.Context) error {
	cer, err := trustee.NewCeremony(d.Manifest)
	if err != nil {
		return err
	}
	d.stepf("key ceremony of %d trustees, threshold %d, on the chain", cer.Params.N, cer.Params.K)
	load := func() (*trustee.Transcript, error) {
		var files []json.RawMessage
		if err := d.caughtUp(ctx, 0); err != nil {
			return nil, err
		}
		if err := chain.QueryJSON(ctx, d.RPC(0), "ceremony/"+d.Manifest.ElectionID, &files); err != nil {
			return nil, err
		}
		var msgs []*trustee.Message
		for _, f := range files {
			m, err := trustee.DecodeMessage(f)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		return cer.Collect(msgs), nil
	}
	rounds := []func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error){
		func(k *trustee.Key, _ *trustee.Transcript) (*trustee.Message, error) { return cer.Register(k) },
		cer.Deal,
		func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
			m, _, err := cer.Check(k, t)
			return m, err
		},
		func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
			m, _, err := cer.Justify(k, t)
			return m, err
		},
	}
	for _, round := range rounds {
		t, err := load()
		if err != nil {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(d.trustees))
		for i, k := range d.trustees {
			m, err := round(k, t)
			if err != nil {
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = d.submit(ctx, i, chain.CeremonyTx(m))
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	t, err := load()
	if err != nil {
		return err
	}
	var joint crypto.Point
	for _, k := range d.trustees {
		res, err := cer.Finish(k, t, false)
		if err != nil {
			return err
		}
		joint = res.PublicKey
	}
	var rec rules.ElectionRecord
	if err := d.caughtUp(ctx, 1); err != nil {
		return err
	}
	if err := chain.QueryJSON(ctx, d.RPC(1), "election/"+d.Manifest.ElectionID, &rec); err != nil {
		return err
	}
	jk := crypto.EncodePoint(joint)
	if string(rec.JointKey) != string(jk[:]) {
		return errors.New("demo: the chain's election key differs from the trustees'")
	}
	d.donef("election key %s…, trustees qualified %v", base64.StdEncoding.EncodeToString(jk[:])[:8], rec.Qualified)
	return nil
}
