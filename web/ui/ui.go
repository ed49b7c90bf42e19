// Package ui holds the voter's page and the public pages that every
// authority node serves (docs/ui.md): plain HTML, CSS and JavaScript, and
// the WebAssembly module built from evote's own ballot, credential and
// crypto code (web/ui/wasm, `make wasm`). Package web mounts them.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static is the folder of the pages and their assets (index.html,
// status.html, lookup.html, results.html, explorer.html, *.js, *.css,
// evote.wasm, wasm_exec.js).
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// Pages maps each page's path to its file.
var Pages = map[string]string{
	"/":         "index.html",
	"/status":   "status.html",
	"/lookup":   "lookup.html",
	"/results":  "results.html",
	"/explorer": "explorer.html",
	"/board":    "board.html",
}
