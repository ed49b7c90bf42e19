package record

import (
	"encoding/json"
	"fmt"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
)

// entryParts is a line of a blocks file cut into its members, the block's
// transactions decoded (DecodeEntry). CometBFT's JSON decoder decodes each
// nested object from its own copy and scans it again at every level; the
// transactions, nearly all of a line, are scanned once here instead.
type entryParts struct {
	Height  json.RawMessage `json:"height"`
	BlockID json.RawMessage `json:"block_id"`
	Block   *struct {
		Header json.RawMessage `json:"header"`
		Data   *struct {
			Txs [][]byte `json:"txs"`
		} `json:"data"`
		Evidence   json.RawMessage `json:"evidence"`
		LastCommit json.RawMessage `json:"last_commit"`
	} `json:"block"`
	Commit  json.RawMessage `json:"commit"`
	Results json.RawMessage `json:"results"`
	AppHash json.RawMessage `json:"app_hash"`
}

// decodeEntry decodes a line as cmtjson.Unmarshal(line, e) does, the
// block's transactions with encoding/json (base64 strings, as CometBFT's
// JSON writes byte strings).
func decodeEntry(line []byte, e *Entry) error {
	var p entryParts
	if err := json.Unmarshal(line, &p); err != nil {
		return err
	}
	member := func(name string, raw json.RawMessage, v any) error {
		if len(raw) == 0 {
			return nil
		}
		if err := cmtjson.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := member("height", p.Height, &e.Height); err != nil {
		return err
	}
	if err := member("block_id", p.BlockID, &e.BlockID); err != nil {
		return err
	}
	if p.Block != nil {
		b := new(types.Block)
		if err := member("block header", p.Block.Header, &b.Header); err != nil {
			return err
		}
		if p.Block.Data != nil {
			for _, tx := range p.Block.Data.Txs {
				b.Data.Txs = append(b.Data.Txs, tx)
			}
		}
		if err := member("block evidence", p.Block.Evidence, &b.Evidence); err != nil {
			return err
		}
		if err := member("block last_commit", p.Block.LastCommit, &b.LastCommit); err != nil {
			return err
		}
		e.Block = b
	}
	if err := member("commit", p.Commit, &e.Commit); err != nil {
		return err
	}
	if err := member("results", p.Results, &e.Results); err != nil {
		return err
	}
	return member("app_hash", p.AppHash, &e.AppHash)
}
