package web

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/evote/evote/record"
)

// The whole election record as one download: GET
// /api/elections/{id}/record.tar streams a tar of the record folder
// (docs/record.md) that `evote record export` would write, so that an
// observer needs nothing but a browser or curl, and `evote verify --record`
// checks it. Exporting costs a pass over the chain, so the node keeps the
// last archive of each election and builds a new one at most every
// RecordMaxAge (one build at a time per election; concurrent downloads wait
// for it and share it).

// archives holds the exported records, by election.
type archives struct {
	mu sync.Mutex
	m  map[string]*archive
}

// archive is one exported record folder, removed when a newer one replaces
// it and no download reads it any more.
type archive struct {
	dir     string
	height  int64 // the record's last height
	built   time.Time
	err     error
	ready   chan struct{} // closed once built (or failed)
	readers int
	stale   bool // replaced: remove when readers drops to 0
}

func (a *archive) release(as *archives) {
	as.mu.Lock()
	a.readers--
	remove := a.stale && a.readers == 0
	as.mu.Unlock()
	if remove {
		a.remove()
	}
}

// remove deletes the archive's folder.
func (a *archive) remove() {
	if a.dir != "" {
		os.RemoveAll(filepath.Dir(a.dir)) // the temporary folder holding record/
	}
}

// removeAll deletes every archive no download reads (at shutdown).
func (as *archives) removeAll() {
	as.mu.Lock()
	defer as.mu.Unlock()
	for id, a := range as.m {
		select {
		case <-a.ready:
			a.stale = true
			if a.readers == 0 {
				a.remove()
			}
			delete(as.m, id)
		default:
		}
	}
}

// get returns a fresh enough archive of election id, building one if
// needed, with a reader reference the caller releases.
func (s *Server) archive(ctx context.Context, id string) (*archive, error) {
	as := &s.records
	as.mu.Lock()
	if as.m == nil {
		as.m = map[string]*archive{}
	}
	a := as.m[id]
	if a != nil {
		select {
		case <-a.ready:
			if a.err != nil || time.Since(a.built) > s.cfg.RecordMaxAge {
				a.stale = true
				if a.readers == 0 {
					go a.remove()
				}
				a = nil
			}
		default: // being built: wait for it
		}
	}
	build := a == nil
	if build {
		a = &archive{ready: make(chan struct{})}
		as.m[id] = a
	}
	a.readers++
	as.mu.Unlock()
	if build {
		go s.buildArchive(id, a)
	}
	select {
	case <-a.ready:
	case <-ctx.Done():
		a.release(as)
		return nil, ctx.Err()
	}
	if a.err != nil {
		a.release(as)
		return nil, a.err
	}
	return a, nil
}

// buildArchive exports the record of election id into a new temporary
// folder (not bound to one request: others wait for it too).
func (s *Server) buildArchive(id string, a *archive) {
	defer close(a.ready)
	tmp, err := os.MkdirTemp("", "evote-record-")
	if err != nil {
		a.err = err
		return
	}
	ctx, cancel := context.WithTimeout(s.base, 30*time.Minute)
	defer cancel()
	dir := filepath.Join(tmp, "record")
	if err := record.Export(ctx, s.rpc, id, dir); err != nil {
		os.RemoveAll(tmp)
		a.err = err
		return
	}
	rec, err := record.Open(dir)
	if err != nil {
		os.RemoveAll(tmp)
		a.err = err
		return
	}
	a.dir, a.height, a.built = dir, rec.Index.LastHeight, time.Now()
}

// recordArchive answers GET /api/elections/{id}/record.tar.
func (s *Server) recordArchive(w http.ResponseWriter, r *http.Request) {
	if !s.caughtUp(w, r) {
		return
	}
	if !s.takeRead(w, r) {
		return
	}
	id := r.PathValue("id")
	ctx, cancel := reqCtx(r)
	_, err := s.app.ElectionRecord(ctx, id)
	cancel()
	if err != nil {
		chainError(w, r, err)
		return
	}
	a, err := s.archive(r.Context(), id)
	if err != nil {
		s.log.Warn("web: exporting the record", "election", id, "err", err)
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: the node could not export the record now; try again later")
		return
	}
	defer a.release(&s.records)
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="record-%d.tar"`, a.height))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Evote-Record-Height", fmt.Sprint(a.height))
	if r.Method == http.MethodHead {
		return
	}
	if err := writeTar(w, a.dir); err != nil {
		s.log.Debug("web: sending the record", "election", id, "err", err)
	}
}

// writeTar writes the regular files of dir, in name order, under
// "record/", with fixed modes and times so that the same record gives the
// same archive.
func writeTar(w io.Writer, dir string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: "record/" + filepath.ToSlash(n), Mode: 0o644, Size: st.Size(), ModTime: time.Unix(0, 0), Format: tar.FormatPAX})
		}
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}
