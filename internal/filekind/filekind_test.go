package filekind

import (
	"io/fs"
	"testing"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		m    fs.FileMode
		want string
	}{
		{0o644, "a regular file"},
		{fs.ModeDir | 0o755, "a directory"},
		{fs.ModeSymlink, "a symbolic link"},
		{fs.ModeNamedPipe, "a named pipe (FIFO)"},
		{fs.ModeDevice | fs.ModeCharDevice, "a character device"},
		{fs.ModeDevice, "a block device"},
		{fs.ModeSocket, "a socket"},
	} {
		if got, ok := Of(c.m); !ok || got != c.want {
			t.Errorf("Of(%v) = %q, %v; want %q", c.m, got, ok, c.want)
		}
	}
	if got, ok := Of(fs.ModeIrregular); ok {
		t.Errorf("Of(ModeIrregular) = %q, want no name", got)
	}
}
