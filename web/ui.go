package web

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/web/ui"
	"github.com/evote/evote/wire"
)

// uiState is what the pages need beyond the API: the other nodes' URLs.
type uiState struct {
	mu    sync.Mutex
	nodes []string
}

// SetNodes sets the base URLs ("https://node2.example.org") of the
// election's other authority nodes, which /api/nodes lists so that the
// pages can compare their validator sets and move to another node when
// this one is unreachable. The URLs must be reachable by voters, and each
// node must allow the others' origins (Config.AllowedOrigins) for a page
// of one to use the websocket and API of another.
func (s *Server) SetNodes(urls []string) {
	var clean []string
	for _, u := range urls {
		// Only the origin is kept: the pages add the paths, and the
		// origin goes into the pages' Content-Security-Policy as is.
		if p, err := url.Parse(u); err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" &&
			!strings.ContainsAny(p.Host, " ;,'\"") {
			clean = append(clean, p.Scheme+"://"+p.Host)
		}
	}
	s.ui.mu.Lock()
	s.ui.nodes = clean
	s.ui.mu.Unlock()
}

// mountUI adds the pages and their two endpoints to the server's routes.
func (s *Server) mountUI() {
	m := s.mux
	static := ui.Static()
	files := http.FileServerFS(static)
	m.Handle("GET /static/", http.StripPrefix("/static/", s.pageHeaders(files)))
	for p, file := range ui.Pages {
		pattern := "GET " + p
		if p == "/" {
			pattern = "GET /{$}"
		}
		page, err := fs.ReadFile(static, file)
		if err != nil {
			panic(fmt.Sprintf("web: page %s not embedded: %v", file, err))
		}
		m.Handle(pattern, s.pageHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, path.Base(file), time.Time{}, bytes.NewReader(page))
		})))
	}
	s.api("/api/nodes", s.nodesHandler)
	s.api("/api/elections", s.electionsHandler)
}

// pageHeaders sets the headers of every page and static file: the same
// Content-Security-Policy (no framing by another site: frame-ancestors),
// Referrer-Policy and nosniff on each, whether it is reached by its path
// ("/lookup") or under /static/ ("/static/lookup.html", "/static/?election=…").
func (s *Server) pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// Everything comes from the node itself; connect-src also
		// allows the other nodes' API and websockets (failover).
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src "+s.connectSrc()+"; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		next.ServeHTTP(w, r)
	})
}

// nodesJSON is the answer of /api/nodes.
type nodesJSON struct {
	ChainID string   `json:"chain_id"`
	Nodes   []string `json:"nodes"` // other nodes' base URLs; this node is "" (same origin)
}

func (s *Server) nodesHandler(w http.ResponseWriter, r *http.Request) {
	s.ui.mu.Lock()
	nodes := append([]string{}, s.ui.nodes...)
	s.ui.mu.Unlock()
	writeJSON(w, http.StatusOK, nodesJSON{ChainID: s.chainID, Nodes: nodes})
}

// ElectionSummary is one entry of /api/elections.
type ElectionSummary struct {
	Election      string     `json:"election"`
	Title         string     `json:"title"`
	Phase         wire.Phase `json:"phase"`
	DefinedHeight int64      `json:"defined_height"`
	Counted       int        `json:"counted"`
	// Start and End are the manifest's voting window (RFC 3339, UTC),
	// for the pages' list of the chain's elections.
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// electionsHandler lists the elections defined on the chain, most recent
// first, from the "election.action='defined'" events of the transaction
// index.
func (s *Server) electionsHandler(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) {
		return
	}
	ctx, cancel := reqCtx(r)
	defer cancel()
	ids, err := s.electionIDs(ctx)
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: listing elections: "+err.Error())
		return
	}
	out := []ElectionSummary{}
	for _, id := range ids {
		rec, err := s.app.ElectionRecord(ctx, id)
		if err != nil {
			continue
		}
		e := ElectionSummary{Election: id, Phase: rec.Phase, DefinedHeight: rec.DefinedHeight, Counted: rec.Counted()}
		// The manifest, which is there from the definition on (the
		// ballot election only once the key ceremony is over).
		if m, _, err := s.app.Election(ctx, id); err == nil && m != nil {
			e.Title = m.Title
			e.Start, e.End = ballot.FormatTime(m.Start), ballot.FormatTime(m.End)
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DefinedHeight > out[j].DefinedHeight })
	writeJSON(w, http.StatusOK, map[string]any{"elections": out})
}

func (s *Server) electionIDs(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	perPage := 100
	for page := 1; page <= 10; page++ {
		p := page
		res, err := s.rpc.TxSearch(ctx, "election.action='defined'", false, &p, &perPage, "desc")
		if err != nil {
			return nil, err
		}
		for _, tx := range res.Txs {
			dt, err := wire.Decode(tx.Tx)
			if err != nil || dt.Kind() != wire.KindDefineElection || seen[dt.Election()] {
				continue
			}
			seen[dt.Election()] = true
			ids = append(ids, dt.Election())
		}
		if len(res.Txs) < perPage {
			break
		}
	}
	return ids, nil
}

// connectSrc is the pages' CSP connect-src: this node and the other nodes
// of SetNodes, over HTTP(S) and websockets.
func (s *Server) connectSrc() string {
	s.ui.mu.Lock()
	defer s.ui.mu.Unlock()
	out := []string{"'self'"}
	for _, u := range s.ui.nodes {
		out = append(out, u, "ws"+strings.TrimPrefix(u, "http"))
	}
	return strings.Join(out, " ")
}
