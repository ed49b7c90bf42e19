package record

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/filekind"
)

// Errors a FileError wraps, for errors.Is.
var (
	// ErrNotRegular: the path is a symbolic link, a named pipe, a device,
	// a socket or a directory, or it is reached through a symbolic link. A
	// record holds only regular files, inside its folder.
	ErrNotRegular = errors.New("record: not a regular file of the record folder")
	// ErrSize: the file is longer or shorter than record.json says, or
	// larger than a valid file of its kind can be (docs/record.md §5).
	ErrSize = errors.New("record: file size")
)

// Size limits of the files that a reader reads whole before it knows
// anything from the blocks (docs/record.md §5). Others are bounded by what
// the blocks hold (package verify) and by MaxFile.
const (
	// MaxIndexSize bounds record.json: 10 files and 100,000 blocks files
	// (the 8-digit names of heights 1 to MaxHeight) at about 160 bytes each.
	MaxIndexSize = 32 << 20
	// MaxGenesisSize bounds genesis.json: thousands of validators and
	// officials.
	MaxGenesisSize = 1 << 20
	// MaxFile bounds any file read whole.
	MaxFile = 1 << 30
)

// MaxHeight is the last height a record can cover: the blocks files of
// higher heights would need more than 8 digits.
const MaxHeight = 100_000_000

// notRegularError is a path that is not a regular file inside the folder.
type notRegularError struct{ path, kind string }

func (e *notRegularError) Error() string { return e.path + " is " + e.kind }

// kindOf names what sub (below dir) is, for an error message.
func kindOf(dir, sub string) string {
	fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(sub)))
	if err != nil {
		return ""
	}
	m := fi.Mode()
	if m&os.ModeSymlink != 0 {
		if t, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(sub))); err == nil {
			return fmt.Sprintf("a symbolic link (to %s)", t)
		}
	}
	if name, ok := filekind.Of(m); ok {
		return name
	}
	return "not a regular file"
}

// fileError turns an error of openRegular into a FileError of path.
func fileError(path string, err error) *FileError {
	var nr *notRegularError
	var fe *FileError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &nr) && nr.path != path:
		return &FileError{Path: path, Reason: fmt.Sprintf("reached through %s, which is %s; a record holds only regular files, inside its folder", nr.path, nr.kind), Err: ErrNotRegular}
	case errors.As(err, &nr):
		return &FileError{Path: path, Reason: fmt.Sprintf("is %s, not a regular file; a record holds only regular files, inside its folder", nr.kind), Err: ErrNotRegular}
	case errors.Is(err, os.ErrNotExist):
		return &FileError{Path: path, Reason: "missing", Err: err}
	}
	return &FileError{Path: path, Reason: "unreadable: " + err.Error(), Err: err}
}

// sizedFile reads a file that must hold exactly size bytes: it fails,
// rather than returning more or io.EOF early, if the file turns out longer
// or shorter (it may change after the open).
type sizedFile struct {
	f    *os.File
	path string
	size int64
	n    int64 // bytes read
}

// openSized opens path (slash-separated, in dir) as a regular file of
// exactly size bytes.
func openSized(dir, path string, size int64) (*sizedFile, error) {
	f, err := openRegular(dir, path)
	if err != nil {
		return nil, fileError(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fileError(path, err)
	}
	if fi.Size() != size {
		f.Close()
		return nil, &FileError{Path: path, Reason: fmt.Sprintf("%d bytes, record.json says %d", fi.Size(), size), Err: ErrSize}
	}
	return &sizedFile{f: f, path: path, size: size}, nil
}

func (s *sizedFile) Read(p []byte) (int, error) {
	if left := s.size - s.n + 1; int64(len(p)) > left {
		p = p[:left] // one byte more than announced reveals a longer file
	}
	k, err := s.f.Read(p)
	s.n += int64(k)
	switch {
	case s.n > s.size:
		return k - int(s.n-s.size), &FileError{Path: s.path, Reason: fmt.Sprintf("longer than the %d bytes record.json says", s.size), Err: ErrSize}
	case err == io.EOF && s.n < s.size:
		return k, &FileError{Path: s.path, Reason: fmt.Sprintf("ends after %d bytes, record.json says %d", s.n, s.size), Err: ErrSize}
	}
	return k, err
}

func (s *sizedFile) Close() error { return s.f.Close() }

// OpenFile opens a listed file for reading. The file must be a regular file
// inside the folder, reached without a symbolic link, of the size that
// record.json lists; the reader fails if it turns out longer or shorter.
func (r *Record) OpenFile(path string) (io.ReadCloser, error) {
	f, ok := r.files[path]
	if !ok {
		return nil, fmt.Errorf("record: %s is not in the record", path)
	}
	return openSized(r.Dir, path, f.Size)
}

// ReadFile returns a listed file's content. genesis.json is at most
// MaxGenesisSize bytes, manifest.json at most ballot.MaxManifestSize,
// any file at most MaxFile.
func (r *Record) ReadFile(path string) ([]byte, error) {
	limit := int64(MaxFile)
	switch path {
	case GenesisFile:
		limit = MaxGenesisSize
	case ManifestFile:
		limit = ballot.MaxManifestSize
	}
	return r.ReadFileMax(path, limit, "")
}

// MaxIndexLine bounds a line of ballots.jsonl and audits.jsonl (about 300
// bytes each).
const MaxIndexLine = 4096

// JSONLimit is the largest size a reader accepts for a convenience file
// whose content, in compact JSON, is compact bytes long as the blocks give
// it: twice as much, and 64 KiB, for another writer's whitespace
// (docs/record.md §5).
func JSONLimit(compact int64) int64 { return 2*compact + 64<<10 }

// CheckSize returns an error if a listed file is listed as larger than max
// bytes, or max is more than MaxFile; why, if not empty, says where the
// bound comes from.
func (r *Record) CheckSize(path string, max int64, why string) error {
	f, ok := r.files[path]
	if !ok {
		return fmt.Errorf("record: %s is not in the record", path)
	}
	if max = min(max, MaxFile); f.Size > max {
		if why == "" {
			why = "a valid " + path
		}
		return &FileError{Path: path, Reason: fmt.Sprintf("record.json lists %d bytes, more than the %d that %s can take", f.Size, max, why), Err: ErrSize}
	}
	return nil
}

// OpenFileMax is OpenFile for a file that is valid only if at most max
// bytes long (see CheckSize).
func (r *Record) OpenFileMax(path string, max int64, why string) (io.ReadCloser, error) {
	if err := r.CheckSize(path, max, why); err != nil {
		return nil, err
	}
	return r.OpenFile(path)
}

// ReadFileMax is ReadFile for a file that is valid only if at most max
// bytes long (see CheckSize). A longer listed size fails before anything
// is read.
func (r *Record) ReadFileMax(path string, max int64, why string) ([]byte, error) {
	if err := r.CheckSize(path, max, why); err != nil {
		return nil, err
	}
	f := r.files[path]
	s, err := openSized(r.Dir, path, f.Size)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	b := make([]byte, f.Size)
	if _, err := io.ReadFull(s, b); err != nil {
		return nil, err
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		if err == nil {
			err = &FileError{Path: path, Reason: fmt.Sprintf("longer than the %d bytes record.json says", f.Size), Err: ErrSize}
		}
		return nil, err
	}
	return b, nil
}
