package trustee

import (
	"encoding/json"
	"fmt"

	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/dkg"
)

// electionKeyFormat is the format name of an election key file.
const electionKeyFormat = "evote/v1/election-key"

// ElectionKey is the public outcome of a key ceremony, as an election
// official publishes it with the election: the joint key, every trustee's
// verification key, who qualified and what went wrong.
type ElectionKey struct {
	Format           string   `json:"format"`
	ElectionID       string   `json:"election_id"`
	ManifestHash     []byte   `json:"manifest_hash"`
	Threshold        int      `json:"threshold"`
	JointKey         []byte   `json:"joint_key"`
	VerificationKeys [][]byte `json:"verification_keys"` // trustee 1..n
	Qualified        []int    `json:"qualified"`
	Faults           []string `json:"faults,omitempty"`
}

// ElectionKey returns the ceremony's outcome in publishable form.
func (c *Ceremony) ElectionKey(res *dkg.Result) *ElectionKey {
	mh := c.Manifest.Hash()
	k := &ElectionKey{Format: electionKeyFormat, ElectionID: c.Manifest.ElectionID, ManifestHash: mh[:],
		Threshold: c.Params.K, Qualified: res.Qualified}
	if res.PublicKey != nil {
		e := crypto.EncodePoint(res.PublicKey)
		k.JointKey = e[:]
	}
	for _, vk := range res.VerificationKeys {
		e := crypto.EncodePoint(vk)
		k.VerificationKeys = append(k.VerificationKeys, e[:])
	}
	for _, f := range res.Faults {
		k.Faults = append(k.Faults, f.Error())
	}
	return k
}

// DecodeElectionKey reads an election key file and decodes its keys.
func DecodeElectionKey(data []byte) (*ElectionKey, crypto.Point, []crypto.Point, error) {
	var k ElectionKey
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, nil, nil, fmt.Errorf("trustee: election key file: %w", err)
	}
	if k.Format != electionKeyFormat {
		return nil, nil, nil, fmt.Errorf("trustee: election key file of format %q, want %q", k.Format, electionKeyFormat)
	}
	joint, err := crypto.DecodeNonIdentityPoint(k.JointKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("trustee: election key file: joint key: %w", err)
	}
	var vks []crypto.Point
	for i, raw := range k.VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("trustee: election key file: verification key of trustee %d: %w", i+1, err)
		}
		vks = append(vks, p)
	}
	return &k, joint, vks, nil
}
