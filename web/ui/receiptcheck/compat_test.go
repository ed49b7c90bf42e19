package receiptcheck

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The decoders as they were with encoding/json (before strictjson), to
// check that the strict ones reject everything those rejected, and
// otherwise read the same values.

type jsonValidators struct {
	ChainID        string `json:"chain_id"`
	ValidatorsHash string `json:"validators_hash"`
	Validators     []struct {
		Address string `json:"address"`
		PubKey  struct {
			Type  string `json:"type"`
			Value []byte `json:"value"`
		} `json:"pub_key"`
		Power string `json:"voting_power"`
	} `json:"validators"`
}

// jsonReadValidators is readValidators with encoding/json.
func jsonReadValidators(data []byte) (chainID, setHash string, vals []validatorJSON, err error) {
	var j jsonValidators
	if err := json.Unmarshal(data, &j); err != nil {
		return "", "", nil, err
	}
	for _, v := range j.Validators {
		vals = append(vals, validatorJSON{address: v.Address, keyType: v.PubKey.Type, key: v.PubKey.Value, power: v.Power})
	}
	return j.ChainID, j.ValidatorsHash, vals, nil
}

// jsonDecode is Decode with encoding/json.
func jsonDecode(data []byte) (*Receipt, error) {
	var j struct {
		Format       string           `json:"format"`
		Election     string           `json:"election"`
		Kind         string           `json:"kind"`
		TrackingCode string           `json:"tracking_code"`
		TxHash       string           `json:"tx_hash"`
		Height       int64            `json:"height"`
		Index        int              `json:"index"`
		Proof        *jsonProofJSON   `json:"proof"`
		BlockID      *jsonBlockIDJSON `json:"block_id"`
		Header       *jsonHeaderJSON  `json:"header"`
		Commit       *jsonCommitJSON  `json:"commit"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("receiptcheck: %w", err)
	}
	if j.Format != Format {
		return nil, fmt.Errorf("receiptcheck: receipt format %q, want %q", j.Format, Format)
	}
	if j.Proof == nil || j.BlockID == nil || j.Header == nil || j.Commit == nil {
		return nil, errors.New("receiptcheck: a part of the receipt is missing")
	}
	txh, err := hex.DecodeString(j.TxHash)
	if err != nil {
		return nil, fmt.Errorf("receiptcheck: tx_hash: %w", err)
	}
	r := &Receipt{Election: j.Election, Kind: j.Kind, TrackingCode: j.TrackingCode, TxHash: txh, Height: j.Height, Index: j.Index}
	var d jsonDecoder
	r.Proof = Proof{RootHash: d.hex(j.Proof.RootHash), Data: j.Proof.Data, Total: d.int(j.Proof.Proof.Total),
		Index: d.int(j.Proof.Proof.Index), LeafHash: j.Proof.Proof.LeafHash, Aunts: j.Proof.Proof.Aunts}
	r.BlockID = d.blockID(*j.BlockID)
	h := j.Header
	r.Header = Header{VersionBlock: uint64(d.int(h.Version.Block)), VersionApp: uint64(d.int(h.Version.App)), ChainID: h.ChainID,
		Height: d.int(h.Height), Time: d.time(h.Time), LastBlockID: d.blockID(h.LastBlockID),
		LastCommitHash: d.hex(h.LastCommitHash), DataHash: d.hex(h.DataHash), ValidatorsHash: d.hex(h.ValidatorsHash),
		NextValidatorsHash: d.hex(h.NextValidatorsHash), ConsensusHash: d.hex(h.ConsensusHash), AppHash: d.hex(h.AppHash),
		LastResultsHash: d.hex(h.LastResultsHash), EvidenceHash: d.hex(h.EvidenceHash), ProposerAddress: d.hex(h.ProposerAddress)}
	c := j.Commit
	r.Commit = Commit{Height: d.int(c.Height), Round: c.Round, BlockID: d.blockID(c.BlockID)}
	for _, s := range c.Signatures {
		r.Commit.Signatures = append(r.Commit.Signatures, CommitSig{Flag: s.Flag, Address: d.hex(s.Address), Timestamp: d.time(s.Timestamp), Signature: s.Signature})
	}
	if d.err != nil {
		return nil, fmt.Errorf("receiptcheck: %w", d.err)
	}
	return r, nil
}

type jsonProofJSON struct {
	RootHash string `json:"root_hash"`
	Data     []byte `json:"data"`
	Proof    struct {
		Total    string   `json:"total"`
		Index    string   `json:"index"`
		LeafHash []byte   `json:"leaf_hash"`
		Aunts    [][]byte `json:"aunts"`
	} `json:"proof"`
}

type jsonBlockIDJSON struct {
	Hash  string `json:"hash"`
	Parts struct {
		Total uint32 `json:"total"`
		Hash  string `json:"hash"`
	} `json:"parts"`
}

type jsonHeaderJSON struct {
	Version struct {
		Block string `json:"block"`
		App   string `json:"app"`
	} `json:"version"`
	ChainID            string          `json:"chain_id"`
	Height             string          `json:"height"`
	Time               string          `json:"time"`
	LastBlockID        jsonBlockIDJSON `json:"last_block_id"`
	LastCommitHash     string          `json:"last_commit_hash"`
	DataHash           string          `json:"data_hash"`
	ValidatorsHash     string          `json:"validators_hash"`
	NextValidatorsHash string          `json:"next_validators_hash"`
	ConsensusHash      string          `json:"consensus_hash"`
	AppHash            string          `json:"app_hash"`
	LastResultsHash    string          `json:"last_results_hash"`
	EvidenceHash       string          `json:"evidence_hash"`
	ProposerAddress    string          `json:"proposer_address"`
}

type jsonCommitJSON struct {
	Height     string          `json:"height"`
	Round      int32           `json:"round"`
	BlockID    jsonBlockIDJSON `json:"block_id"`
	Signatures []struct {
		Flag      int    `json:"block_id_flag"`
		Address   string `json:"validator_address"`
		Timestamp string `json:"timestamp"`
		Signature []byte `json:"signature"`
	} `json:"signatures"`
}

// jsonDecoder keeps the first error of a series of field decodings.
type jsonDecoder struct{ err error }

func (d *jsonDecoder) hex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("hex %q: %w", s, err)
	}
	return b
}

func (d *jsonDecoder) int(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("integer %q: %w", s, err)
	}
	return v
}

func (d *jsonDecoder) time(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("time %q: %w", s, err)
	}
	return t
}

func (d *jsonDecoder) blockID(j jsonBlockIDJSON) BlockID {
	return BlockID{Hash: d.hex(j.Hash), PartsTotal: j.Parts.Total, PartsHash: d.hex(j.Parts.Hash)}
}

// compat decodes a receipt and a validators answer with both decoders and
// returns an error unless the strict one rejects all that encoding/json
// rejects and reads the same values from the rest. It reports whether the
// strict decoders rejected something that encoding/json accepted.
func compat(receipt, vals []byte) (stricter bool, err error) {
	r, err := Decode(receipt)
	jr, jerr := jsonDecode(receipt)
	switch {
	case jerr != nil && err == nil:
		return false, fmt.Errorf("Decode accepts a receipt that encoding/json rejected (%v): %s", jerr, receipt)
	case err == nil:
		if len(jr.Proof.Aunts) == 0 {
			jr.Proof.Aunts = nil // [] and absent are alike
		}
		if !reflect.DeepEqual(r, jr) {
			return false, fmt.Errorf("Decode and encoding/json read different receipts from %s:\n%+v\n%+v", receipt, r, jr)
		}
	case jerr == nil:
		stricter = true
	}
	c, h, v, err := readValidators(vals)
	jc, jh, jv, jerr := jsonReadValidators(vals)
	switch {
	case jerr != nil && err == nil:
		return false, fmt.Errorf("readValidators accepts an answer that encoding/json rejected (%v): %s", jerr, vals)
	case err == nil:
		if c != jc || h != jh || !reflect.DeepEqual(v, jv) {
			return false, fmt.Errorf("readValidators and encoding/json read different answers from %s", vals)
		}
	case jerr == nil:
		stricter = true
	}
	return stricter, nil
}

func testdata(t testing.TB) (receipt, vals []byte) {
	receipt, err := os.ReadFile(filepath.Join("testdata", "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	vals, err = os.ReadFile(filepath.Join("testdata", "validators.json"))
	if err != nil {
		t.Fatal(err)
	}
	return receipt, vals
}

// variants returns, for every member and element of tree, copies with it
// removed and replaced by a value of each kind.
func variants(tree any, path string) map[string]any {
	out := map[string]any{}
	values := []any{nil, "x", "", 1.5, 7.0, -1.0, true, []any{}, []any{"AA=="}, map[string]any{}}
	switch v := tree.(type) {
	case map[string]any:
		for k, x := range v {
			c := copyMap(v)
			delete(c, k)
			out[path+"/"+k+" (removed)"] = c
			for i, y := range values {
				c := copyMap(v)
				c[k] = y
				out[path+"/"+k+" = "+strconv.Itoa(i)] = c
			}
			c = copyMap(v)
			c[strings.ToUpper(k)] = x
			out[path+"/"+k+" (upper-case twin)"] = c
			for name, y := range variants(x, path+"/"+k) {
				c := copyMap(v)
				c[k] = y
				out[name] = c
			}
		}
	case []any:
		out[path+" (element added)"] = append(append([]any(nil), v...), v[0])
		for i, x := range v {
			for name, y := range variants(x, path+"/"+strconv.Itoa(i)) {
				c := append([]any(nil), v...)
				c[i] = y
				out[name] = c
			}
		}
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestDecodeAsEncodingJSON checks the strict decoders against the ones
// with encoding/json on the saved receipt and validators answer and on
// variants of every member, and on inputs only strict JSON rejects.
func TestDecodeAsEncodingJSON(t *testing.T) {
	receipt, vals := testdata(t)
	if stricter, err := compat(receipt, vals); err != nil || stricter {
		t.Fatalf("the saved receipt or validators answer: %v", err)
	}
	stricter, n := 0, 0
	for _, doc := range []string{"receipt", "validators"} {
		var tree any
		raw := map[string][]byte{"receipt": receipt, "validators": vals}[doc]
		if err := json.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		for name, v := range variants(tree, "") {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			r, vs := receipt, vals
			if doc == "receipt" {
				r = b
			} else {
				vs = b
			}
			n++
			s, err := compat(r, vs)
			if err != nil {
				t.Errorf("%s%s: %v", doc, name, err)
			}
			if s {
				stricter++
			}
		}
	}
	t.Logf("%d variants: %d rejected only by the strict decoders", n, stricter)

	// What only the strict decoders reject, and what they still accept.
	for _, tc := range []struct {
		name, old, new string
		want           string // "" for accepted
	}{
		{"duplicate member", `{"format":"evote/v1/receipt",`, `{"format":"evote/v1/receipt","format":"evote/v1/receipt",`, `duplicate member name "format"`},
		{"duplicate nested member", `"round":0,`, `"round":0,"round":1,`, `duplicate member name "round"`},
		{"invalid UTF-8", `"election":"city-2026"`, "\"election\":\"city-2026\xff\"", "invalid UTF-8 in a string"},
		{"lone surrogate", `"election":"city-2026"`, `"election":"city-2026\udc00"`, "lone surrogate"},
		{"upper-case twin", `"height":8,`, `"height":8,"Height":9,`, `field "Height" is "height" in another case`},
		{"missing member", `"index":0,`, ``, "index: missing"},
		{"null string", `"kind":"ballot"`, `"kind":null`, "kind: want a string, got null"},
		{"bytes as numbers", `"signature":"`, `"signature":[1,2],"x":"`, "signature: want a string, got an array"},
		{"trailing data", `"}]}}`, `"}]}} {}`, "data after the value"},
		{"aunts left out", `"aunts":[`, `"x":[`, ""},
		{"null signature", `"signature":"`, `"signature":null,"x":"`, ""},
		{"unknown member", `"round":0,`, `"round":0,"note":{"a":[1]},`, ""},
	} {
		in := strings.Replace(string(receipt), tc.old, tc.new, 1)
		if in == string(receipt) {
			t.Fatalf("%s: the replacement did not apply", tc.name)
		}
		_, err := Decode([]byte(in))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Decode = %v, want %q", tc.name, err, tc.want)
		}
		if _, err := compat([]byte(in), vals); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"duplicate member", `"voting_power":"10",`, `"voting_power":"10","voting_power":"10",`, `duplicate member name "voting_power"`},
		{"upper-case twin", `"chain_id":`, `"Chain_ID":"x","chain_id":`, `field "Chain_ID" is "chain_id" in another case`},
		{"no block height", `"block_height":9,`, ``, ""},
	} {
		in := strings.Replace(string(vals), tc.old, tc.new, 1)
		if in == string(vals) {
			t.Fatalf("%s: the replacement did not apply", tc.name)
		}
		_, _, err := DecodeValidators([]byte(in))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validators, %s: DecodeValidators = %v, want %q", tc.name, err, tc.want)
		}
		if _, err := compat(receipt, []byte(in)); err != nil {
			t.Errorf("validators, %s: %v", tc.name, err)
		}
	}
}

// FuzzDecodeAsEncodingJSON: on any input, the strict decoders reject all
// that the encoding/json ones rejected, and read the same values from the
// rest.
func FuzzDecodeAsEncodingJSON(f *testing.F) {
	receipt, vals := testdata(f)
	f.Add(receipt, vals)
	f.Add([]byte(`{"format":"evote/v1/receipt","Format":1}`), []byte(`{"validators":[{"pub_key":{"value":null}}],"Validators":null}`))
	f.Fuzz(func(t *testing.T, receipt, vals []byte) {
		if _, err := compat(receipt, vals); err != nil {
			t.Fatal(err)
		}
	})
}
