package ui_test

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evote/evote/web/ui"
)

// TestWasmUpToDate rebuilds the WebAssembly module as `make wasm` does, with
// the flags of wasm/build-flags, and fails if the committed
// static/evote.wasm differs (builds with -trimpath are reproducible), and
// checks that wasm_exec.js is the toolchain's.
func TestWasmUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds the WebAssembly module")
	}
	flags, err := buildFlags(filepath.Join("wasm", "build-flags"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "evote.wasm")
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, "./wasm")...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the module: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("static", "evote.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(fresh) != sha256.Sum256(committed) {
		t.Fatalf("web/ui/static/evote.wasm is stale (%x, a fresh build is %x): run `make wasm` and commit it",
			sha256.Sum256(committed), sha256.Sum256(fresh))
	}
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	goexec, err := os.ReadFile(filepath.Join(string(bytes.TrimSpace(root)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Skipf("no wasm_exec.js in GOROOT: %v", err)
	}
	ours, _ := os.ReadFile(filepath.Join("static", "wasm_exec.js"))
	if !bytes.Equal(goexec, ours) {
		t.Fatal("web/ui/static/wasm_exec.js is not the toolchain's: run `make wasm` and commit it")
	}
}

// buildFlags reads the flags of `go build` from a file as the Makefile's
// wasm target does (sed 's/#.*//'): words, with '#' starting a comment.
func buildFlags(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var flags []string
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		flags = append(flags, strings.Fields(line)...)
	}
	return flags, nil
}

// TestPagesEmbedded checks that every page and asset is embedded and that
// no page loads anything from elsewhere.
func TestPagesEmbedded(t *testing.T) {
	st := ui.Static()
	for _, f := range []string{"evote.wasm", "wasm_exec.js", "app.css", "i18n.js", "common.js", "vote.js", "public.js"} {
		if _, err := fs.Stat(st, f); err != nil {
			t.Error(err)
		}
	}
	for p, f := range ui.Pages {
		b, err := fs.ReadFile(st, f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, bad := range [][]byte{[]byte("http://"), []byte("https://"), []byte("//cdn"), []byte("<script>"), []byte("style=")} {
			if bytes.Contains(b, bad) {
				t.Errorf("%s contains %q: pages load only their own files, with no inline code", f, bad)
			}
		}
	}
}
