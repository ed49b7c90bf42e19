package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime"
	"sync"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
)

// Credentials generates n voters' codes, derives their credentials (on
// every core) and loads the roll of their public keys onto the chain. It
// returns the credentials, which the simulated voters sign with, and the
// codes, which a voter types.
func (d *Demo) Credentials(ctx context.Context, n int) ([]*credential.Credential, []credential.Code, error) {
	id := d.Manifest.ElectionID
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
	pubs := make([]ed25519.PublicKey, n)
	for i, c := range creds {
		pubs[i] = c.PublicKey()
	}
	roll, err := credential.NewRoll(id, credential.DefaultKDF, pubs)
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
	d.donef("roll hash %s…", hex.EncodeToString(rh[:6]))
	return creds, codes, nil
}
