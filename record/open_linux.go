//go:build linux

package record

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// openRegular opens rel (slash-separated, inside the folder dir) for
// reading, one component at a time with openat(2) and O_NOFOLLOW, so that
// no symbolic link is followed at any level and nothing can be swapped in
// between a check and the open. The last component is opened with
// O_NONBLOCK (a named pipe does not block the open) and must be a regular
// file by fstat(2) of the opened descriptor. The folder itself is opened as
// named (the observer chose it).
func openRegular(dir, rel string) (*os.File, error) {
	fd, err := openat(atFDCWD, dir, syscall.O_RDONLY|syscall.O_DIRECTORY)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	parts := strings.Split(rel, "/")
	for i, name := range parts {
		last := i == len(parts)-1
		flags := syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NOCTTY
		if last {
			flags |= syscall.O_NONBLOCK
		} else {
			flags |= syscall.O_DIRECTORY
		}
		next, err := openat(fd, name, flags)
		syscall.Close(fd)
		if err != nil {
			sub := strings.Join(parts[:i+1], "/")
			if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENXIO) {
				// Not what it should be: say what it is.
				if k := kindOf(dir, sub); k != "" {
					return nil, &notRegularError{path: sub, kind: k}
				}
			}
			return nil, &os.PathError{Op: "open", Path: sub, Err: err}
		}
		fd = next
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: rel, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, &notRegularError{path: rel, kind: kindOfMode(uint32(st.Mode))}
	}
	return os.NewFile(uintptr(fd), rel), nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := syscall.Openat(dirfd, name, flags|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func kindOfMode(m uint32) string {
	switch m & syscall.S_IFMT {
	case syscall.S_IFLNK:
		return "a symbolic link"
	case syscall.S_IFIFO:
		return "a named pipe (FIFO)"
	case syscall.S_IFCHR:
		return "a character device"
	case syscall.S_IFBLK:
		return "a block device"
	case syscall.S_IFSOCK:
		return "a socket"
	case syscall.S_IFDIR:
		return "a directory"
	}
	return "not a regular file"
}

// atFDCWD is AT_FDCWD: a relative name is resolved from the working
// directory (package syscall does not define it on every architecture).
const atFDCWD = -100
