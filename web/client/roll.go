package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/web/protocol"
)

// maxRollIndex bounds the roll index read from a node: 300 bytes per chunk
// of a roll of credential.MaxRollSize entries, and the header.
const maxRollIndex = 300*(credential.MaxRollSize/credential.ChunkSize) + 1<<20

// FetchRoll downloads the complete credential roll of an election from a
// node's public HTTP API (base, e.g. http://node.example:8080): the index,
// then every chunk. The roll it returns hashes to the roll hash the node's
// index names; compare that with the roll hash you trust (the election
// record, evote verify).
func FetchRoll(ctx context.Context, hc *http.Client, base, electionID string) (*credential.Roll, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	base = strings.TrimRight(base, "/") + "/api/elections/" + url.PathEscape(electionID) + "/roll"
	get := func(u string, limit int64) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("GET %s: the answer is over %d bytes", u, limit)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b[:min(len(b), 300)])))
		}
		return b, nil
	}
	raw, err := get(base, maxRollIndex)
	if err != nil {
		return nil, err
	}
	var idx protocol.RollIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("client: the roll index: %w", err)
	}
	hdr, err := credential.DecodeHeader(idx.Header)
	if err != nil {
		return nil, err
	}
	if !idx.Complete || len(idx.Chunks) != hdr.Chunks() {
		return nil, fmt.Errorf("client: the roll of %q is not complete on the node (%d of %d chunks)", electionID, len(idx.Chunks), hdr.Chunks())
	}
	bin := bytes.Clone(idx.Header)
	for i := range hdr.Chunks() {
		b, err := get(fmt.Sprintf("%s/%d", base, i), int64(hdr.ChunkLen(i)*credential.EntrySize))
		if err != nil {
			return nil, err
		}
		bin = append(bin, b...)
	}
	roll, err := credential.Decode(bin)
	if err != nil {
		return nil, err
	}
	if h := roll.Hash(); hex.EncodeToString(h[:]) != idx.RollHash {
		return nil, fmt.Errorf("client: the roll's chunks hash to %x, the node's index says %s", h, idx.RollHash)
	}
	return roll, nil
}
