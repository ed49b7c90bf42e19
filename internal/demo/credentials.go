package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime"
	"sync"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/internal/voters"
)

// Credentials generates a code per voter (each entry of voters is a
// voter's ballot style and weight), derives their credentials (on every
// core) and loads the roll of their public keys, styles and weights onto
// the chain. It returns the simulated voters, who sign with the
// credentials, and the codes, which a voter types.
func (d *Demo) Credentials(ctx context.Context, entries []credential.Entry) ([]voters.Voter, []credential.Code, error) {
	id := d.Manifest.ElectionID
	n := len(entries)
	d.stepf("generating %d voter credentials (Argon2id) and loading the roll", n)
	// Derive each voter's key once: the roll needs the public keys, the
	// simulated voters the private ones.
	codes := make([]credential.Code, n)
	creds := make([]*credential.Credential, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range codes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if codes[i], errs[i] = credential.NewCode(rand.Reader); errs[i] == nil {
				creds[i], errs[i] = credential.Derive(codes[i], id, credential.DefaultKDF)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	vs := make([]voters.Voter, n)
	rollEntries := make([]credential.Entry, n)
	for i, c := range creds {
		vs[i] = voters.Voter{Credential: c, Style: entries[i].Style, Weight: entries[i].Weight}
		rollEntries[i] = credential.Entry{Key: c.PublicKey(), Style: entries[i].Style, Weight: entries[i].Weight}
	}
	roll, err := credential.BuildRoll(id, credential.DefaultKDF, d.Manifest.StyleIDs(), rollEntries)
	if err != nil {
		return nil, nil, err
	}
	txs, err := chain.RollTxs(d.ChainID, roll, d.official)
	if err != nil {
		return nil, nil, err
	}
	for i, tx := range txs {
		if _, err := d.submit(ctx, i, tx); err != nil {
			return nil, nil, err
		}
	}
	rh := roll.Hash()
	if hdr := roll.Header(); hdr.Weighted() {
		d.donef("roll hash %s…, total weight %d", hex.EncodeToString(rh[:6]), hdr.TotalWeight)
	} else {
		d.donef("roll hash %s…", hex.EncodeToString(rh[:6]))
	}
	return vs, codes, nil
}
