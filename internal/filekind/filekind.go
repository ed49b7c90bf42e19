// Package filekind names the kind of a file, for the messages of readers
// that refuse whatever is not a regular file (the record, a voter list).
package filekind

import "io/fs"

// Of names the kind of file of mode m: "a regular file", "a directory", "a
// symbolic link", "a named pipe (FIFO)", "a character device", "a block
// device" or "a socket"; ok is false for a kind it has no name for.
func Of(m fs.FileMode) (name string, ok bool) {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link", true
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)", true
	case m&fs.ModeCharDevice != 0:
		return "a character device", true
	case m&fs.ModeDevice != 0:
		return "a block device", true
	case m&fs.ModeSocket != 0:
		return "a socket", true
	case m.IsDir():
		return "a directory", true
	case m.IsRegular():
		return "a regular file", true
	}
	return "", false
}
