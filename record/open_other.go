//go:build !linux

package record

import (
	"os"
	"path/filepath"
	"strings"
)

// openRegular opens rel (slash-separated, inside the folder dir) for
// reading if no component below dir is a symbolic link and the file is a
// regular one. Without openat(2) and O_NOFOLLOW (see open_linux.go) it
// checks each component with Lstat before the open and that the opened
// file is the one it checked; a named pipe swapped in between the two could
// still block the open.
func openRegular(dir, rel string) (*os.File, error) {
	parts := strings.Split(rel, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(sub)))
		if err != nil {
			return nil, err
		}
		want := fi.Mode().IsRegular()
		if i < len(parts)-1 {
			want = fi.IsDir()
		}
		if !want {
			return nil, &notRegularError{path: sub, kind: kindOf(dir, sub)}
		}
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	before, _ := os.Lstat(p)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil || before == nil || !after.Mode().IsRegular() || !os.SameFile(before, after) {
		f.Close()
		return nil, &notRegularError{path: rel, kind: "replaced while being opened"}
	}
	return f, nil
}
