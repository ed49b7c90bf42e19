package chain

import (
	"crypto/ed25519"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/trustee"
)

// Builders of the transactions that officials and trustees send.

// DefineElectionTx returns the signed transaction that publishes m.
func DefineElectionTx(chainID string, m *ballot.Manifest, key ed25519.PrivateKey) *Tx {
	tx := &Tx{Type: TxDefineElection, ElectionID: m.ElectionID, Fields: [][]byte{m.CanonicalJSON()}}
	SignOfficial(chainID, tx, key)
	return tx
}

// RollTxs returns the signed transactions that load a credential roll, one
// per chunk of credential.ChunkSize keys.
func RollTxs(chainID string, r *credential.Roll, key ed25519.PrivateKey) ([]*Tx, error) {
	hdr, err := r.Header().Encode()
	if err != nil {
		return nil, err
	}
	var txs []*Tx
	for c := 0; c < r.Header().Chunks(); c++ {
		var keys []byte
		for i := c * credential.ChunkSize; i < min((c+1)*credential.ChunkSize, r.Len()); i++ {
			keys = append(keys, r.Key(i)...)
		}
		tx := &Tx{Type: TxCredentialRoll, ElectionID: r.Header().ElectionID, Fields: [][]byte{hdr, u64(uint64(c)), keys}}
		SignOfficial(chainID, tx, key)
		txs = append(txs, tx)
	}
	return txs, nil
}

// CeremonyTx wraps a trustee's signed ceremony message.
func CeremonyTx(m *trustee.Message) *Tx {
	return &Tx{Type: TxCeremony, ElectionID: m.ElectionID,
		Fields: [][]byte{[]byte(m.Kind), u64(uint64(m.From)), m.Payload, m.Signature.Encode()}}
}

// OpenTx and CloseTx return the signed transactions that open and close an
// election.
func OpenTx(chainID, electionID string, key ed25519.PrivateKey) *Tx {
	tx := &Tx{Type: TxOpen, ElectionID: electionID}
	SignOfficial(chainID, tx, key)
	return tx
}

// CloseTx returns the signed transaction that closes an election.
func CloseTx(chainID, electionID string, key ed25519.PrivateKey) *Tx {
	tx := &Tx{Type: TxClose, ElectionID: electionID}
	SignOfficial(chainID, tx, key)
	return tx
}
