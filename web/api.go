package web

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/internal/strictjson"
	"github.com/evote/evote/record"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/web/protocol"
	"github.com/evote/evote/wire"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	s.mux = m
	m.HandleFunc("GET /ws", s.serveWS)
	m.HandleFunc("GET /healthz", s.healthz)
	s.api("/api/status", s.status)
	s.api("/api/validators", s.validators)
	s.api("/api/elections/{id}", s.election)
	s.api("/api/elections/{id}/ballots/{tracking}", s.ballot)
	s.api("/api/elections/{id}/record.tar", s.recordArchive)
	s.api("/api/elections/{id}/roll", s.rollIndex)
	s.api("/api/elections/{id}/board", s.board)
	s.api("/api/elections/{id}/roll/{chunk}", s.rollChunk)
	s.api("/api/blocks/{height}", s.block)
	m.Handle("POST /rpc", s.cors(http.HandlerFunc(s.publicRPC)))
	m.Handle("/rpc", s.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST, OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeError(w, r, http.StatusMethodNotAllowed, 0, fmt.Sprintf("web: method %s not allowed on /rpc (POST a JSON-RPC request)", safe(r.Method)))
	})))
	m.Handle("/api/", s.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, 0, fmt.Sprintf("web: no endpoint %s", safe(r.URL.Path)))
	})))
}

// apiMethods are the methods of every API endpoint (GET implies HEAD).
const apiMethods = "GET, HEAD, OPTIONS"

// api routes GET (and HEAD) of path to h, answers a CORS preflight
// (OPTIONS) with 204, and any other method with 405 and Allow.
func (s *Server) api(path string, h http.HandlerFunc) {
	s.mux.Handle("GET "+path, s.cors(h))
	s.mux.Handle(path, s.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", apiMethods)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeError(w, r, http.StatusMethodNotAllowed, 0, fmt.Sprintf("web: method %s not allowed on %s (allowed: %s)", safe(r.Method), safe(r.URL.Path), apiMethods))
	})))
}

// cors answers cross-origin reads from the allowed origins.
func (s *Server) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Add("Vary", "Origin")
			if s.originAllowed(r) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
				w.Header().Set("Access-Control-Max-Age", "600")
			}
		}
		h.ServeHTTP(w, r)
	})
}

// apiError is the body of every error answer.
type apiError struct {
	Error  string    `json:"error"`
	Status int       `json:"status"`
	Code   wire.Code `json:"code,omitempty"` // the chain's rejection code, when there is one
}

func writeError(w http.ResponseWriter, _ *http.Request, status int, code wire.Code, msg string) {
	writeJSON(w, status, apiError{Error: msg, Status: status, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = encodeJSON(apiError{Error: "web: encoding the answer: " + err.Error(), Status: status})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// encodeJSON encodes every answer and websocket message of the server
// without HTML escaping (internal/jsonout), which would change the
// canonical manifest embedded in an answer; the pages never put JSON into
// HTML.
func encodeJSON(v any) ([]byte, error) { return jsonout.Marshal(v) }

func reqCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 10*time.Second)
}

// caughtUp answers 503 and returns false when the node cannot answer from
// current state.
func (s *Server) caughtUp(w http.ResponseWriter, r *http.Request) bool {
	ctx, cancel := reqCtx(r)
	defer cancel()
	st, err := s.rpc.Status(ctx)
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: node status unavailable: "+err.Error())
		return false
	}
	if st.SyncInfo.CatchingUp {
		writeError(w, r, http.StatusServiceUnavailable, 0, fmt.Sprintf("web: the node is catching up (at height %d); ask another node or retry", st.SyncInfo.LatestBlockHeight))
		return false
	}
	return true
}

// StatusInfo is the answer of /api/status.
type StatusInfo struct {
	ChainID       string    `json:"chain_id"`
	NodeID        string    `json:"node_id"`
	Moniker       string    `json:"moniker"`
	Version       string    `json:"version"`
	LatestHeight  int64     `json:"latest_height"`
	LatestHash    string    `json:"latest_block_hash"`
	LatestAppHash string    `json:"latest_app_hash"`
	LatestTime    time.Time `json:"latest_block_time"`
	CatchingUp    bool      `json:"catching_up"`
	Peers         int       `json:"peers"`
	Validator     string    `json:"validator_address,omitempty"`
	VotingPower   int64     `json:"voting_power"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := reqCtx(r)
	defer cancel()
	st, err := s.rpc.Status(ctx)
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: node status unavailable: "+err.Error())
		return
	}
	out := StatusInfo{ChainID: st.NodeInfo.Network, NodeID: string(st.NodeInfo.DefaultNodeID), Moniker: st.NodeInfo.Moniker,
		Version: st.NodeInfo.Version, LatestHeight: st.SyncInfo.LatestBlockHeight, LatestHash: hex.EncodeToString(st.SyncInfo.LatestBlockHash),
		LatestAppHash: hex.EncodeToString(st.SyncInfo.LatestAppHash), LatestTime: st.SyncInfo.LatestBlockTime,
		CatchingUp: st.SyncInfo.CatchingUp, VotingPower: st.ValidatorInfo.VotingPower}
	if st.ValidatorInfo.VotingPower > 0 {
		out.Validator = st.ValidatorInfo.Address.String()
	}
	if ni, err := s.rpc.NetInfo(ctx); err == nil {
		out.Peers = ni.NPeers
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := reqCtx(r)
	defer cancel()
	st, err := s.rpc.Status(ctx)
	switch {
	case err != nil:
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: node status unavailable: "+err.Error())
	case st.SyncInfo.CatchingUp:
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: the node is catching up")
	case s.unhealthy() != nil:
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: the node is unhealthy: "+s.unhealthy().Error())
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "height": st.SyncInfo.LatestBlockHeight})
	}
}

// validatorsJSON is the answer of /api/validators. Validators are in
// CometBFT's JSON encoding.
type validatorsJSON struct {
	ChainID        string          `json:"chain_id"`
	Height         int64           `json:"block_height"`
	ValidatorsHash string          `json:"validators_hash"` // hex
	Validators     json.RawMessage `json:"validators"`
}

func (s *Server) validators(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := reqCtx(r)
	defer cancel()
	var height *int64
	if q := r.URL.Query().Get("height"); q != "" {
		h, err := strconv.ParseInt(q, 10, 64)
		if err != nil || h <= 0 {
			writeError(w, r, http.StatusBadRequest, 0, fmt.Sprintf("web: height %q is not a positive integer", safe(q)))
			return
		}
		height = &h
	}
	var vals []*types.Validator
	var at int64
	perPage := 100
	for page := 1; ; page++ {
		p := page
		res, err := s.rpc.Validators(ctx, height, &p, &perPage)
		if err != nil {
			writeError(w, r, http.StatusNotFound, 0, "web: validators: "+err.Error())
			return
		}
		vals = append(vals, res.Validators...)
		at = res.BlockHeight
		if len(vals) >= res.Total || len(res.Validators) == 0 {
			break
		}
	}
	raw, err := cmtjson.Marshal(vals)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, 0, "web: validators: "+err.Error())
		return
	}
	set := types.NewValidatorSet(vals)
	writeJSON(w, http.StatusOK, validatorsJSON{ChainID: s.chainID, Height: at, ValidatorsHash: hex.EncodeToString(set.Hash()), Validators: raw})
}

// DecodeValidators reads the answer of /api/validators into a validator
// set, checking it against the hash the answer names. Pin the set from the
// genesis or a node you trust: a node could answer with a set of its own.
func DecodeValidators(data []byte) (*types.ValidatorSet, string, error) {
	if _, err := strictjson.Parse(data); err != nil {
		return nil, "", fmt.Errorf("web: validators: %w", err)
	}
	var j validatorsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, "", fmt.Errorf("web: validators: %w", err)
	}
	var vals []*types.Validator
	if err := cmtjson.Unmarshal(j.Validators, &vals); err != nil {
		return nil, "", fmt.Errorf("web: validators: %w", err)
	}
	if len(vals) == 0 {
		return nil, "", errors.New("web: validators: the set is empty")
	}
	set, err := types.ValidatorSetFromExistingValidators(vals)
	if err != nil {
		return nil, "", fmt.Errorf("web: validators: %w", err)
	}
	if h := hex.EncodeToString(set.Hash()); j.ValidatorsHash != "" && h != j.ValidatorsHash {
		return nil, "", fmt.Errorf("web: validators: the set hashes to %s, the answer says %s", h, j.ValidatorsHash)
	}
	return set, j.ChainID, nil
}

// chainError answers an error of the application with its HTTP status.
func chainError(w http.ResponseWriter, r *http.Request, err error) {
	var te *rules.Rejection
	if !errors.As(err, &te) {
		writeError(w, r, http.StatusInternalServerError, wire.CodeInternal, "web: internal error reading the state")
		return
	}
	status := http.StatusBadRequest
	switch te.Code {
	case wire.CodeUnknownElection, wire.CodeNotFound:
		status = http.StatusNotFound
	case wire.CodeInternal:
		status = http.StatusInternalServerError
	}
	writeError(w, r, status, te.Code, te.Msg)
}

// ElectionInfo is the answer of /api/elections/{id}.
type ElectionInfo struct {
	Election string                `json:"election"`
	Counted  int                   `json:"counted"` // ballots that count: one per credential
	Record   *rules.ElectionRecord `json:"record"`  // with the manifest (canonical JSON)
	// Blanks are, once tallied, every contest's blank count in manifest
	// order (rules.Blanks): omitted before.
	Blanks []BlankInfo `json:"blanks,omitempty"`
}

// BlankInfo is one contest's weighted number of blank ballots: Blank is
// null when they are not counted apart; Kind says how (rules.BlankKind).
type BlankInfo struct {
	Contest string          `json:"contest"`
	Blank   *uint64         `json:"blank"`
	Kind    rules.BlankKind `json:"blank_kind"`
}

// blankInfo returns the blank counts of a tallied record with its
// manifest, nil before the result.
func blankInfo(rec *rules.ElectionRecord) ([]BlankInfo, error) {
	if len(rec.Result) == 0 {
		return nil, nil
	}
	m, err := ballot.DecodeManifestJSON(rec.Manifest)
	if err != nil {
		return nil, err
	}
	bs, err := rules.Blanks(m, rec)
	if err != nil {
		return nil, err
	}
	out := make([]BlankInfo, len(bs))
	for i, b := range bs {
		out[i] = BlankInfo{Contest: b.Contest, Blank: b.Count, Kind: b.Kind}
	}
	return out, nil
}

func (s *Server) election(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) {
		return
	}
	ctx, cancel := reqCtx(r)
	defer cancel()
	id := r.PathValue("id")
	rec, err := s.app.ElectionRecord(ctx, id)
	if err != nil {
		chainError(w, r, err)
		return
	}
	blanks, err := blankInfo(rec)
	if err != nil {
		chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ElectionInfo{Election: id, Counted: rec.Counted(), Record: rec, Blanks: blanks})
}

// BallotInfo is the answer of /api/elections/{id}/ballots/{tracking}.
type BallotInfo struct {
	Election     string              `json:"election"`
	TrackingCode string              `json:"tracking_code"`
	Audited      bool                `json:"audited"`
	Record       *rules.BallotRecord `json:"record"`
	Receipt      *protocol.Receipt   `json:"receipt"`
}

func (s *Server) ballot(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) {
		return
	}
	ctx, cancel := reqCtx(r)
	defer cancel()
	id, code := r.PathValue("id"), r.PathValue("tracking")
	if _, err := s.app.ElectionRecord(ctx, id); err != nil {
		chainError(w, r, err)
		return
	}
	rec, audited, err := s.app.BallotByTrackingCode(ctx, id, code)
	if err != nil {
		chainError(w, r, err)
		return
	}
	kind := protocol.KindBallot
	if audited {
		kind = protocol.KindAudit
	}
	rc, err := s.blocks.receipt(ctx, id, kind, rec.TrackingCode, rec.Height, rec.Index, nil)
	if err != nil {
		s.log.Error("web: building a receipt", "election", id, "height", rec.Height, "err", err)
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: the node cannot read the ballot's block")
		return
	}
	writeJSON(w, http.StatusOK, BallotInfo{Election: id, TrackingCode: rec.TrackingCode, Audited: audited, Record: rec, Receipt: rc})
}

// blockJSON is the answer of /api/blocks/{height}; CometBFT's objects are in
// CometBFT's JSON encoding.
type blockJSON struct {
	Height    int64           `json:"height"`
	BlockID   json.RawMessage `json:"block_id"`
	Header    json.RawMessage `json:"header"`
	Commit    json.RawMessage `json:"commit"`
	Canonical bool            `json:"canonical_commit"`
	Txs       []string        `json:"txs"` // SHA-256 of each transaction, hex
	// TxInfo says, for each transaction in order, what it is.
	TxInfo []txInfo `json:"tx_info"`
}

// txInfo is what a transaction of a block is: its kind, its election and,
// for a ballot or an audit, its tracking code.
type txInfo struct {
	Hash         string `json:"hash"`
	Kind         string `json:"kind"` // wire.Kind's name; "malformed" if it does not decode
	Election     string `json:"election,omitempty"`
	TrackingCode string `json:"tracking_code,omitempty"`
}

// describeTx reads what a transaction is, without verifying it.
func describeTx(raw []byte) txInfo {
	info := txInfo{Hash: hex.EncodeToString(types.Tx(raw).Hash()), Kind: "malformed"}
	tx, err := wire.Decode(raw)
	if err != nil {
		return info
	}
	info.Kind, info.Election = tx.Kind().String(), tx.Election()
	switch tx := tx.(type) {
	case *wire.Ballot:
		if h, _, ok := record.CastInfo(tx.Cast); ok {
			info.TrackingCode = ballot.TrackingCode(h)
		}
	case *wire.Audit:
		if h, ok := record.AuditHash(tx.File); ok {
			info.TrackingCode = ballot.TrackingCode(h)
		}
	}
	return info
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := reqCtx(r)
	defer cancel()
	q := r.PathValue("height")
	h, err := strconv.ParseInt(q, 10, 64)
	if err != nil || h <= 0 {
		writeError(w, r, http.StatusBadRequest, 0, fmt.Sprintf("web: height %q is not a positive integer", safe(q)))
		return
	}
	st, err := s.rpc.Status(ctx)
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: node status unavailable: "+err.Error())
		return
	}
	if h > st.SyncInfo.LatestBlockHeight || h < st.SyncInfo.EarliestBlockHeight {
		writeError(w, r, http.StatusNotFound, 0, fmt.Sprintf("web: no block %d (the node has %d to %d)", h, st.SyncInfo.EarliestBlockHeight, st.SyncInfo.LatestBlockHeight))
		return
	}
	rb, err := s.rpc.Block(ctx, &h)
	if err != nil || rb == nil || rb.Block == nil {
		writeError(w, r, http.StatusNotFound, 0, fmt.Sprintf("web: block %d unavailable", h))
		return
	}
	rc, err := s.rpc.Commit(ctx, &h)
	if err != nil || rc == nil || rc.Commit == nil {
		writeError(w, r, http.StatusNotFound, 0, fmt.Sprintf("web: commit of block %d unavailable", h))
		return
	}
	out := blockJSON{Height: h, Canonical: rc.CanonicalCommit, Txs: []string{}, TxInfo: []txInfo{}}
	for _, tx := range rb.Block.Txs {
		out.Txs = append(out.Txs, hex.EncodeToString(tx.Hash()))
		out.TxInfo = append(out.TxInfo, describeTx(tx))
	}
	var e1, e2, e3 error
	out.BlockID, e1 = cmtjson.Marshal(rb.BlockID)
	out.Header, e2 = cmtjson.Marshal(rb.Block.Header)
	out.Commit, e3 = cmtjson.Marshal(rc.Commit)
	if err := errors.Join(e1, e2, e3); err != nil {
		writeError(w, r, http.StatusInternalServerError, 0, "web: encoding block: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, out)
}
