package chain

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	"github.com/evote/evote/ballot"
)

// GenesisState is the application part of the chain's genesis file
// (app_state): the officials whose keys may define elections on this chain.
type GenesisState struct {
	// Officials are Ed25519 public keys written "ed25519:<base64>", as in
	// election configurations.
	Officials []string `json:"officials"`
}

// ParseGenesisState decodes and checks app_state.
func ParseGenesisState(raw []byte) (GenesisState, []ed25519.PublicKey, error) {
	var g GenesisState
	if len(raw) == 0 {
		return g, nil, fmt.Errorf("chain: genesis app_state is empty: it must list the officials' keys")
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return g, nil, fmt.Errorf("chain: genesis app_state: %w", err)
	}
	if len(g.Officials) == 0 {
		return g, nil, fmt.Errorf("chain: genesis app_state lists no officials")
	}
	var keys []ed25519.PublicKey
	for i, s := range g.Officials {
		k, err := ballot.ParseEd25519Key(s)
		if err != nil {
			return g, nil, fmt.Errorf("chain: genesis app_state: officials[%d]: %w", i, err)
		}
		keys = append(keys, k)
	}
	return g, keys, nil
}
