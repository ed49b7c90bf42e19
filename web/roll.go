package web

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/web/protocol"
	"github.com/evote/evote/wire"
)

// The credential roll is public, and a voter's page reads it to tell the
// voter, before they fill the ballot, whether their code is on the roll and
// which ballot style and weight it carries. The page reads the index (the
// key range and hash of every chunk), then the one chunk whose range holds
// its key, and checks that chunk against the roll hash (credential.
// LookupInChunk): the node learns which chunk of 4096 credentials the voter's
// key is in, less than a cast ballot tells it (the key itself).

// rollIndex answers GET /api/elections/{id}/roll.
func (s *Server) rollIndex(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) {
		return
	}
	ctx, cancel := reqCtx(r)
	defer cancel()
	id := r.PathValue("id")
	rec, chunks, err := s.app.RollIndex(ctx, id)
	if err != nil {
		chainError(w, r, err)
		return
	}
	if rec.RollHeader == nil {
		writeError(w, r, http.StatusNotFound, wire.CodeNotFound, fmt.Sprintf("election %q has no credential roll yet", id))
		return
	}
	hdr, err := credential.DecodeHeader(rec.RollHeader)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, wire.CodeInternal, "web: the stored roll header does not decode")
		return
	}
	out := protocol.RollIndex{Election: id, Header: rec.RollHeader, Complete: rec.RollComplete, Count: hdr.Count, Weight: hdr.TotalWeight, Styles: hdr.Styles, Chunks: []protocol.RollChunkEntry{}}
	if rec.RollComplete {
		out.RollHash = hex.EncodeToString(rec.RollHash)
	}
	for _, c := range chunks {
		out.Chunks = append(out.Chunks, protocol.RollChunkEntry{Index: c.Index, First: hex.EncodeToString(c.First), Last: hex.EncodeToString(c.Last), Hash: hex.EncodeToString(c.Hash)})
	}
	writeJSON(w, http.StatusOK, out)
}

// rollChunk answers GET /api/elections/{id}/roll/{chunk}: the chunk's
// entries, as the credential-roll transaction carried them
// (application/octet-stream, credential.EntrySize bytes each). A loaded
// chunk never changes.
func (s *Server) rollChunk(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) {
		return
	}
	id, raw := r.PathValue("id"), r.PathValue("chunk")
	i, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || raw != strconv.FormatUint(i, 10) {
		writeError(w, r, http.StatusBadRequest, wire.CodeMalformed, fmt.Sprintf("web: chunk %q is not a chunk number", safe(raw)))
		return
	}
	ctx, cancel := reqCtx(r)
	defer cancel()
	b, ok, err := s.app.RollChunk(ctx, id, i)
	switch {
	case err != nil:
		chainError(w, r, err)
		return
	case !ok:
		writeError(w, r, http.StatusNotFound, wire.CodeNotFound, fmt.Sprintf("chunk %d of the roll of %q is not loaded", i, id))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
