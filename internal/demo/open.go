package demo

import (
	"context"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/voters"
)

// Open opens the election and waits until every node knows it is open. It
// returns the election the voters encrypt for: the manifest and the
// ceremony's joint key.
func (d *Demo) Open(ctx context.Context) (*ballot.Election, error) {
	id := d.Manifest.ElectionID
	d.stepf("opening the election")
	h, err := d.submit(ctx, 2, chain.OpenTx(d.ChainID, id, d.official))
	if err != nil {
		return nil, err
	}
	k, err := crypto.DecodeNonIdentityPoint(d.trustees[0].Ceremonies[id].JointKey)
	if err != nil {
		return nil, err
	}
	e, err := ballot.NewElection(d.Manifest, k)
	if err != nil {
		return nil, err
	}
	// Voters may reach any node: every node must know the election is open.
	for i := range d.rpcs {
		if err := d.caughtUp(ctx, i); err != nil {
			return nil, err
		}
	}
	d.donef("open at height %d", h)
	return e, nil
}

// OpenElection runs the phases from Publish to Open for the election m
// with one voter per entry (its ballot style and weight): it returns the
// election, the simulated voters and their codes.
func (d *Demo) OpenElection(ctx context.Context, m *ballot.Manifest, entries []credential.Entry) (*ballot.Election, []voters.Voter, []credential.Code, error) {
	if err := d.Publish(ctx, m, len(entries)); err != nil {
		return nil, nil, nil, err
	}
	if err := d.Ceremony(ctx); err != nil {
		return nil, nil, nil, err
	}
	creds, codes, err := d.Credentials(ctx, entries)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := d.Open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return e, creds, codes, nil
}
