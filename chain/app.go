// Package chain is the authority node's replicated state machine: evote's
// CometBFT ABCI application. It checks every transaction (election
// definitions, credential rolls, key-ceremony messages, open and close,
// ballots, audited ballots) in CheckTx and again, deterministically, when a
// block is finalised, and keeps its state in a store.Store.
package chain

import (
	"log/slog"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/chain/store"
)

// AppOptions configure an App.
type AppOptions struct {
	Logger *slog.Logger
}

// App is evote's ABCI application.
type App struct {
	abci.BaseApplication
	store store.Store
	log   *slog.Logger
}

var _ abci.Application = (*App)(nil)

// NewApp returns the application over st. The chain's genesis app_state
// (GenesisState, JSON) authorises the officials' keys.
func NewApp(st store.Store, opts AppOptions) (*App, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &App{store: st, log: log}, nil
}
