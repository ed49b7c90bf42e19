package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/internal/jsonout"
)

// The public read-only RPC: what an observer needs to verify the chain and
// export the election record, on the node's public port, so that the
// CometBFT RPC port can stay on loopback (docs/operations.md). POST /rpc
// takes a JSON-RPC 2.0 request for one of publicMethods, with CometBFT's
// parameters, and answers as CometBFT's RPC does, so that CometBFT's own
// HTTP client (rpc/client/http) works against URL/rpc for these methods:
// `evote verify --node`, `evote verify-audit --node` and `evote record
// export --node` take the node's public URL. Nothing that changes state,
// names the node's peers or costs unbounded work is served: transactions go
// through the websocket API, and queries are limited to the application's
// read-only paths.

// maxRPCBody bounds a public RPC request.
const maxRPCBody = 16 << 10

// publicQueryPaths are the ABCI query paths served (chain.App.Query).
var publicQueryPaths = []string{"election/", "ballot/", "totals/", "shares/", "ceremony/"}

// rpcRequest is a JSON-RPC 2.0 request.
type rpcRequest struct {
	JSONRPC string                     `json:"jsonrpc"`
	ID      json.RawMessage            `json:"id"`
	Method  string                     `json:"method"`
	Params  map[string]json.RawMessage `json:"params"`
}

// rpcError is a JSON-RPC 2.0 error.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

// JSON-RPC 2.0 error codes.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
	rpcInternalError  = -32603
)

// publicMethods are the methods served, each with its call of the node's
// RPC client.
var publicMethods = map[string]func(ctx context.Context, c rpcclient.Client, p *params) (any, error){
	"status":  func(ctx context.Context, c rpcclient.Client, _ *params) (any, error) { return c.Status(ctx) },
	"genesis": func(ctx context.Context, c rpcclient.Client, _ *params) (any, error) { return c.Genesis(ctx) },
	"block": func(ctx context.Context, c rpcclient.Client, p *params) (any, error) {
		return c.Block(ctx, p.height("height"))
	},
	"commit": func(ctx context.Context, c rpcclient.Client, p *params) (any, error) {
		return c.Commit(ctx, p.height("height"))
	},
	"block_results": func(ctx context.Context, c rpcclient.Client, p *params) (any, error) {
		return c.BlockResults(ctx, p.height("height"))
	},
	"validators": func(ctx context.Context, c rpcclient.Client, p *params) (any, error) {
		page, perPage := p.int("page", 1, 1_000_000), p.int("per_page", 30, 100)
		return c.Validators(ctx, p.height("height"), page, perPage)
	},
	"blockchain": func(ctx context.Context, c rpcclient.Client, p *params) (any, error) {
		lo, _ := p.number("minHeight")
		hi, _ := p.number("maxHeight")
		if lo < 0 || hi < 0 || (hi != 0 && lo > hi) {
			p.fail("minHeight %d and maxHeight %d are not a range of heights", lo, hi)
			return nil, nil
		}
		return c.BlockchainInfo(ctx, lo, hi) // CometBFT answers at most 20 headers
	},
	"abci_query": func(ctx context.Context, c rpcclient.Client, p *params) (any, error) {
		path := p.string("path")
		ok := false
		for _, pre := range publicQueryPaths {
			ok = ok || (strings.HasPrefix(path, pre) && len(path) <= 256)
		}
		if !ok {
			p.fail("path %q is not one of the application's public queries (%s…)", safe(path), strings.Join(publicQueryPaths, "…, "))
		}
		if p.err != nil {
			return nil, nil
		}
		return c.ABCIQueryWithOptions(ctx, path, nil, rpcclient.ABCIQueryOptions{Height: derefHeight(p.height("height"))})
	},
}

func derefHeight(h *int64) int64 {
	if h == nil {
		return 0
	}
	return *h
}

// params reads CometBFT's JSON-RPC parameters (integers may be numbers or
// strings, as CometBFT's client sends them); the first problem sticks.
type params struct {
	m   map[string]json.RawMessage
	err error
}

func (p *params) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

func (p *params) string(name string) string {
	raw, ok := p.m[name]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.fail("parameter %q: want a string", name)
	}
	return s
}

// number reads an integer parameter; ok is false if it is absent or null.
func (p *params) number(name string) (int64, bool) {
	raw, ok := p.m[name]
	if !ok || string(raw) == "null" {
		return 0, false
	}
	s := strings.Trim(string(raw), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.fail("parameter %q: want an integer", name)
		return 0, false
	}
	return v, true
}

func (p *params) height(name string) *int64 {
	v, ok := p.number(name)
	if !ok || v == 0 {
		return nil // the latest
	}
	if v < 0 {
		p.fail("parameter %q: a height is positive", name)
		return nil
	}
	return &v
}

func (p *params) int(name string, def, most int64) *int {
	v, ok := p.number(name)
	if !ok {
		v = def
	}
	if v < 1 || v > most {
		p.fail("parameter %q: %d is not within 1 to %d", name, v, most)
		v = def
	}
	n := int(v)
	return &n
}

// takeRead takes a token of the client address's read bucket (the public
// RPC and record downloads), or answers 429 with Retry-After.
func (s *Server) takeRead(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := s.reads.take(clientKey(r))
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		writeError(w, r, http.StatusTooManyRequests, 0, "web: too many reads from this address; retry later")
	}
	return ok
}

// publicRPC answers one JSON-RPC request of publicMethods.
func (s *Server) publicRPC(w http.ResponseWriter, r *http.Request) {
	if !s.takeRead(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRPCBody+1))
	if err != nil {
		writeRPCError(w, nil, rpcParseError, "Parse error", "reading the request: "+err.Error())
		return
	}
	if len(body) > maxRPCBody {
		writeRPCError(w, nil, rpcInvalidRequest, "Invalid Request", fmt.Sprintf("the request is over %d bytes", maxRPCBody))
		return
	}
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeRPCError(w, nil, rpcParseError, "Parse error", "the request is not one JSON-RPC object (batches are not served)")
		return
	}
	if req.JSONRPC != "2.0" || len(req.ID) > 64 {
		writeRPCError(w, req.ID, rpcInvalidRequest, "Invalid Request", `want "jsonrpc": "2.0" and an id of at most 64 bytes`)
		return
	}
	call, ok := publicMethods[req.Method]
	if !ok {
		writeRPCError(w, req.ID, rpcMethodNotFound, "Method not found", fmt.Sprintf("%q is not served on the public port (served: status, genesis, block, commit, block_results, validators, blockchain, abci_query)", safe(req.Method)))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	p := &params{m: req.Params}
	res, err := call(ctx, s.rpc, p)
	if p.err != nil {
		writeRPCError(w, req.ID, rpcInvalidParams, "Invalid params", p.err.Error())
		return
	}
	if err != nil {
		writeRPCError(w, req.ID, rpcInternalError, "Internal error", err.Error())
		return
	}
	b, err := cmtjson.Marshal(res)
	if err != nil {
		writeRPCError(w, req.ID, rpcInternalError, "Internal error", "encoding the answer: "+err.Error())
		return
	}
	writeRPC(w, req.ID, b, nil)
}

func writeRPCError(w http.ResponseWriter, id json.RawMessage, code int, msg, data string) {
	writeRPC(w, id, nil, &rpcError{Code: code, Message: msg, Data: data})
}

// writeRPC writes a JSON-RPC 2.0 response (HTTP 200, as CometBFT answers
// errors too).
func writeRPC(w http.ResponseWriter, id json.RawMessage, result json.RawMessage, e *rpcError) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	out := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result,omitempty"`
		Error   *rpcError       `json:"error,omitempty"`
	}{"2.0", id, result, e}
	b, _ := jsonout.Marshal(out) // not json.Marshal: it would HTML-escape the result's strings
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}
