package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
)

// The genesis fingerprint (docs/spec-verify.md, "Genesis fingerprint") is
// the one value officials, operators and observers compare to agree on a
// chain: the SHA-256 of the genesis document's canonical JSON.

// CanonicalGenesis is the canonical JSON of a genesis document: CometBFT's
// own encoding (cmtjson) indented by two spaces, with no trailing newline.
// It is byte for byte what CometBFT's GenesisDoc.SaveAs writes, so a genesis
// file written by `evote node genesis` or `evote node testnet` is already
// canonical; a record's genesis.json holds exactly these bytes.
func CanonicalGenesis(doc *types.GenesisDoc) ([]byte, error) {
	b, err := cmtjson.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("record: genesis: %w", err)
	}
	return b, nil
}

// GenesisFingerprint is the lower-case hex SHA-256 of CanonicalGenesis(doc).
func GenesisFingerprint(doc *types.GenesisDoc) (string, error) {
	b, err := CanonicalGenesis(doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// ParseGenesis decodes a genesis file as a node does (CometBFT's
// GenesisDocFromJSON: decode, then validate and complete), never panicking.
// A genesis without genesis_time is refused: CometBFT would complete it
// with the current time, so it has no fixed fingerprint.
func ParseGenesis(raw []byte) (doc *types.GenesisDoc, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("record: genesis does not decode: %v", r)
		}
	}()
	doc = new(types.GenesisDoc)
	if err := cmtjson.Unmarshal(raw, doc); err != nil {
		return nil, fmt.Errorf("record: genesis: %w", err)
	}
	if doc.GenesisTime.IsZero() {
		return nil, fmt.Errorf("record: genesis: no genesis_time (a node would use its own start time, so the nodes would not agree)")
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("record: genesis: %w", err)
	}
	if doc.ConsensusParams == nil {
		return nil, fmt.Errorf("record: genesis: no consensus parameters")
	}
	return doc, nil
}

// GenesisInfo is what ReadGenesisFile finds in a genesis file.
type GenesisInfo struct {
	Doc *types.GenesisDoc
	// Fingerprint is GenesisFingerprint(Doc).
	Fingerprint string
	// Canonical tells whether the file's bytes are CanonicalGenesis(Doc),
	// so that `sha256sum FILE` prints Fingerprint too.
	Canonical bool
}

// FileFingerprint returns a genesis file's fingerprint, whether the bytes
// are canonical, and the decoded document (ParseGenesis).
func FileFingerprint(raw []byte) (GenesisInfo, error) {
	doc, err := ParseGenesis(raw)
	if err != nil {
		return GenesisInfo{}, err
	}
	canon, err := CanonicalGenesis(doc)
	if err != nil {
		return GenesisInfo{}, err
	}
	sum := sha256.Sum256(canon)
	return GenesisInfo{Doc: doc, Fingerprint: hex.EncodeToString(sum[:]), Canonical: bytes.Equal(raw, canon)}, nil
}

// ReadGenesisFile reads a genesis file (at most MaxGenesisSize) and
// returns FileFingerprint of its bytes.
func ReadGenesisFile(path string) (GenesisInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return GenesisInfo{}, fmt.Errorf("record: genesis: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxGenesisSize+1)); err != nil {
		return GenesisInfo{}, fmt.Errorf("record: genesis %s: %w", path, err)
	}
	if buf.Len() > MaxGenesisSize {
		return GenesisInfo{}, fmt.Errorf("record: genesis %s: larger than %d bytes", path, MaxGenesisSize)
	}
	info, err := FileFingerprint(buf.Bytes())
	if err != nil {
		return GenesisInfo{}, fmt.Errorf("%w (%s)", err, path)
	}
	return info, nil
}
