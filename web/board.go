package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// defaultBoardPage is the page size of the ballot board without ?limit.
const defaultBoardPage = 100

// BoardAnswer is the answer of /api/elections/{id}/board.
type BoardAnswer struct {
	Election string `json:"election"`
	Query    string `json:"query,omitempty"`
	*rules.BoardPage
}

// board answers GET /api/elections/{id}/board?q=PREFIX&after=CODE&limit=N:
// a page of the election's public ballot board, every ballot cast or
// audited in tracking-code order with its block and status (counted,
// replaced, audited). Reads count against the address's read bucket.
func (s *Server) board(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) || !s.takeRead(w, r) {
		return
	}
	q := r.URL.Query()
	limit := defaultBoardPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > rules.MaxBoardPage {
			writeError(w, r, http.StatusBadRequest, wire.CodeMalformed, fmt.Sprintf("web: limit %q: a page holds 1 to %d ballots", safe(l), rules.MaxBoardPage))
			return
		}
		limit = n
	}
	ctx, cancel := reqCtx(r)
	defer cancel()
	id := r.PathValue("id")
	page, err := s.app.Board(ctx, id, q.Get("q"), q.Get("after"), limit)
	if err != nil {
		chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, BoardAnswer{Election: id, Query: q.Get("q"), BoardPage: page})
}

// Ballots returns the page's ballots (none for an answer without a page).
func (a BoardAnswer) Ballots() []rules.BoardEntry {
	if a.BoardPage == nil {
		return nil
	}
	return a.Entries
}
