package chain

import (
	"crypto/ed25519"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// Builders of the transactions that officials and trustees send.

// DefineElectionTx returns the signed transaction that publishes m.
func DefineElectionTx(chainID string, m *ballot.Manifest, key ed25519.PrivateKey) *wire.DefineElection {
	tx := &wire.DefineElection{ElectionID: m.ElectionID, Manifest: m.CanonicalJSON()}
	wire.Sign(chainID, tx, key)
	return tx
}

// RollTxs returns the signed transactions that load a credential roll, one
// per chunk of credential.ChunkSize entries.
func RollTxs(chainID string, r *credential.Roll, key ed25519.PrivateKey) ([]*wire.CredentialRoll, error) {
	hdr, err := r.Header().Encode()
	if err != nil {
		return nil, err
	}
	var txs []*wire.CredentialRoll
	for c := 0; c < r.Header().Chunks(); c++ {
		tx := &wire.CredentialRoll{ElectionID: r.Header().ElectionID, Header: hdr, Chunk: uint64(c), Entries: r.Chunk(c)}
		wire.Sign(chainID, tx, key)
		txs = append(txs, tx)
	}
	return txs, nil
}

// CeremonyTx wraps a trustee's signed ceremony message.
func CeremonyTx(m *trustee.Message) *wire.Ceremony {
	return &wire.Ceremony{ElectionID: m.ElectionID, Message: m.Kind, From: uint64(m.From), Payload: m.Payload, Signature: m.Signature.Encode()}
}

// OpenTx returns the signed transaction that opens an election.
func OpenTx(chainID, electionID string, key ed25519.PrivateKey) *wire.Open {
	tx := &wire.Open{ElectionID: electionID}
	wire.Sign(chainID, tx, key)
	return tx
}

// CloseTx returns the signed transaction that closes an election.
func CloseTx(chainID, electionID string, key ed25519.PrivateKey) *wire.Close {
	tx := &wire.Close{ElectionID: electionID}
	wire.Sign(chainID, tx, key)
	return tx
}
