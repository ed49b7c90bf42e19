// Package record reads and writes the election record: everything an
// observer needs to re-check an election, exported from an authority node
// into a folder (docs/record.md, format "evote/v1/record").
//
// A record holds the chain's genesis, every block with its commit and the
// application's result for every transaction, and a few convenience files
// (the manifest, the ceremony messages, the credential roll, an index of the
// ballots and audits, the encrypted totals, the decryption shares and the
// result). The blocks are the evidence; package verify re-derives every
// convenience file from them and checks that they agree. Nothing in a record
// is trusted: the reader checks sizes, paths and hashes and never panics on
// hostile input.
//
// Blocks are stored as JSON Lines in chunks of ChunkHeights heights, so a
// record of a million ballots is written and read in bounded memory.
package record

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
)

// Format and Version name the record format (docs/record.md).
const (
	Format  = "evote/v1/record"
	Version = 1
)

// ChunkHeights is the number of heights per blocks file.
const ChunkHeights = 1000

// MaxLine bounds one line of a blocks file (one block, its commit and its
// results, base64-encoded): a CometBFT block is at most 100 MiB, evote's far
// smaller; this bounds a reader's memory on hostile input.
const MaxLine = 128 << 20

// File names in a record folder.
const (
	IndexFile    = "record.json"
	GenesisFile  = "genesis.json"
	ManifestFile = "manifest.json"
	ElectionFile = "election.json" // the node's state of the election (rules.ElectionRecord)
	CeremonyFile = "ceremony.json" // the key-ceremony messages, as the chain's ceremony query returns them
	RollFile     = "roll.json"     // the credential roll (docs/credentials.md §4.2)
	BallotsFile  = "ballots.jsonl" // one line per accepted ballot
	AuditsFile   = "audits.jsonl"  // one line per accepted audited ballot
	TotalsFile   = "totals.json"   // {"totals": base64}
	SharesFile   = "shares.json"   // {"shares": [base64, …]}
	ResultFile   = "result.json"   // the counts by contest and selection
	BlocksDir    = "blocks"
)

// ErrFormat is returned for a record folder that does not follow the format.
var ErrFormat = errors.New("record: malformed record")

// Index is record.json: what the record covers and every file's hash.
type Index struct {
	Format      string `json:"format"`
	Version     int    `json:"version"`
	ChainID     string `json:"chain_id"`
	ElectionID  string `json:"election_id"`
	FirstHeight int64  `json:"first_height"`
	LastHeight  int64  `json:"last_height"`
	Files       []File `json:"files"`
}

// File is one file of a record with its SHA-256 (lower-case hex) and size.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Entry is one line of a blocks file: the block at one height, its ID, the
// commit that signs it and the application's results.
type Entry struct {
	Height  int64         `json:"height"`
	BlockID types.BlockID `json:"block_id"`
	Block   *types.Block  `json:"block"`
	Commit  *types.Commit `json:"commit"`
	// Results are the application's results of the block's transactions
	// (committed by the next header's LastResultsHash); nil if not exported.
	Results []TxResult `json:"results,omitempty"`
	// AppHash is the application's state hash after this block (signed in
	// the next header); empty if not exported.
	AppHash cmtbytes.HexBytes `json:"app_hash,omitempty"`
}

// TxResult is the application's verdict on one transaction. Code, Data,
// GasWanted and GasUsed are committed by the next header's LastResultsHash;
// Log and Codespace are informative.
type TxResult struct {
	Code      uint32 `json:"code"`
	Data      []byte `json:"data,omitempty"`
	Log       string `json:"log,omitempty"`
	Codespace string `json:"codespace,omitempty"`
	GasWanted int64  `json:"gas_wanted,omitempty"`
	GasUsed   int64  `json:"gas_used,omitempty"`
}

// EncodeEntry returns the entry's line (without the newline).
func EncodeEntry(e *Entry) ([]byte, error) {
	b, err := cmtjson.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("record: height %d: %w", e.Height, err)
	}
	return b, nil
}

// DecodeEntry decodes one line of a blocks file. It never panics.
func DecodeEntry(line []byte) (e *Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("%w: block entry does not decode: %v", ErrFormat, r)
		}
	}()
	e = new(Entry)
	if err := decodeEntry(line, e); err != nil {
		return nil, fmt.Errorf("%w: block entry: %v", ErrFormat, err)
	}
	if e.Block == nil || e.Commit == nil {
		return nil, fmt.Errorf("%w: block entry at height %d lacks the block or the commit", ErrFormat, e.Height)
	}
	return e, nil
}

// BallotEntry is one line of ballots.jsonl: an accepted ballot.
type BallotEntry struct {
	TrackingCode string `json:"tracking_code"`
	Hash         string `json:"hash"`       // hex of the ballot hash
	Credential   string `json:"credential"` // hex of the credential public key
	Height       int64  `json:"height"`
	Index        int    `json:"index"`
	// ReplacedBy is the tracking code of the same credential's later
	// ballot, which counts instead; empty for a counted ballot.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// AuditEntry is one line of audits.jsonl: an accepted audited ballot.
type AuditEntry struct {
	TrackingCode string `json:"tracking_code"`
	Hash         string `json:"hash"`
	Height       int64  `json:"height"`
	Index        int    `json:"index"`
}

// Result is result.json: the counts of the result transaction.
type Result struct {
	ElectionID string          `json:"election_id"`
	Height     int64           `json:"height"`
	Contests   []ContestResult `json:"contests"`
}

// ContestResult is one contest's counts, in selection order, and the
// decrypted blank count of a contest with count_blank (absent otherwise:
// see rules.Blanks for the other contests' blank counts).
type ContestResult struct {
	Contest    string            `json:"contest"`
	Selections []SelectionResult `json:"selections"`
	Blank      *uint64           `json:"blank,omitempty"`
}

// SelectionResult is one selection's count.
type SelectionResult struct {
	Selection string `json:"selection"`
	Count     uint64 `json:"count"`
}

// BlocksPath returns the blocks file holding height h.
func BlocksPath(h int64) string {
	first := (h-1)/ChunkHeights*ChunkHeights + 1
	return BlocksDir + "/" + fmt.Sprintf("%08d.jsonl", first)
}

var blocksName = regexp.MustCompile(`^blocks/[0-9]{8}\.jsonl$`)

var knownFiles = map[string]bool{GenesisFile: true, ManifestFile: true, ElectionFile: true, CeremonyFile: true,
	RollFile: true, BallotsFile: true, AuditsFile: true, TotalsFile: true, SharesFile: true, ResultFile: true}

// Record is an opened record folder.
type Record struct {
	Dir   string
	Index Index
	files map[string]File
}

// Open reads a record folder's record.json and checks its form: format,
// version, heights, and that every listed path is one the format defines
// (so no path leaves the folder). It does not check the hashes: Check does.
// record.json is read as a stream, one listed file at a time, and each is
// checked as it comes, so that a hostile index costs no more memory than
// the files a record can list.
func Open(dir string) (*Record, error) {
	f, err := openRegular(dir, IndexFile)
	if err != nil {
		return nil, fileError(IndexFile, err)
	}
	defer f.Close()
	r := &Record{Dir: dir, files: map[string]File{}}
	lim := &io.LimitedReader{R: f, N: MaxIndexSize + 1}
	if err := r.decodeIndex(lim); err != nil {
		if lim.N <= 0 {
			return nil, &FileError{Path: IndexFile, Reason: fmt.Sprintf("larger than %d bytes", MaxIndexSize), Err: ErrSize}
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, IndexFile, err)
	}
	ix := r.Index
	if ix.Format != Format || ix.Version != Version {
		return nil, fmt.Errorf("%w: %s: format %q version %d, want %q version %d", ErrFormat, IndexFile, ix.Format, ix.Version, Format, Version)
	}
	if ix.FirstHeight != 1 || ix.LastHeight < 1 || ix.LastHeight > MaxHeight {
		return nil, fmt.Errorf("%w: %s: heights %d to %d", ErrFormat, IndexFile, ix.FirstHeight, ix.LastHeight)
	}
	for _, f := range ix.Files {
		if blocksName.MatchString(f.Path) && blocksFirst(f.Path) > ix.LastHeight {
			return nil, fmt.Errorf("%w: %s lists %s, beyond the last height %d", ErrFormat, IndexFile, f.Path, ix.LastHeight)
		}
	}
	for h := ix.FirstHeight; h <= ix.LastHeight; h += ChunkHeights {
		if _, ok := r.files[BlocksPath(h)]; !ok {
			return nil, fmt.Errorf("%w: %s does not list %s (heights from %d)", ErrFormat, IndexFile, BlocksPath(h), h)
		}
	}
	if _, ok := r.files[GenesisFile]; !ok {
		return nil, fmt.Errorf("%w: %s does not list %s", ErrFormat, IndexFile, GenesisFile)
	}
	return r, nil
}

// blocksFirst returns the first height of a blocks file's name.
func blocksFirst(path string) int64 {
	n, _ := strconv.ParseInt(path[len(BlocksDir)+1:len(BlocksDir)+9], 10, 64)
	return n
}

// decodeIndex decodes record.json into r.Index and r.files, member by
// member and listed file by listed file.
func (r *Record) decodeIndex(rd io.Reader) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := delim(dec, '{'); err != nil {
		return err
	}
	ix := &r.Index
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		if seen[name] {
			return fmt.Errorf("member %q twice", name)
		}
		seen[name] = true
		switch name {
		case "format":
			err = dec.Decode(&ix.Format)
		case "version":
			err = dec.Decode(&ix.Version)
		case "chain_id":
			err = dec.Decode(&ix.ChainID)
		case "election_id":
			err = dec.Decode(&ix.ElectionID)
		case "first_height":
			err = dec.Decode(&ix.FirstHeight)
		case "last_height":
			err = dec.Decode(&ix.LastHeight)
		case "files":
			err = r.decodeFiles(dec)
		default:
			err = fmt.Errorf("unknown member %q", name)
		}
		if err != nil {
			return err
		}
	}
	if err := delim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the index")
	}
	return nil
}

// decodeFiles decodes the files array, checking each file as it comes: a
// path of the format (a blocks file's name is the first height of a chunk,
// so at most MaxHeight/ChunkHeights of them), listed once.
func (r *Record) decodeFiles(dec *json.Decoder) error {
	if err := delim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		var f File
		if err := dec.Decode(&f); err != nil {
			return err
		}
		if !knownFiles[f.Path] && !(blocksName.MatchString(f.Path) && blocksFirst(f.Path)%ChunkHeights == 1) {
			return fmt.Errorf("lists %q, which is not a file of the format", f.Path)
		}
		if _, dup := r.files[f.Path]; dup {
			return fmt.Errorf("lists %q twice", f.Path)
		}
		if len(f.SHA256) != 64 || f.Size < 0 {
			return fmt.Errorf("%q: bad hash or size", f.Path)
		}
		r.files[f.Path] = f
		r.Index.Files = append(r.Index.Files, f)
	}
	return delim(dec, ']')
}

func delim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != d {
		return fmt.Errorf("%v where %q belongs", t, d)
	}
	return nil
}

// Has reports whether the record lists the file.
func (r *Record) Has(path string) bool { _, ok := r.files[path]; return ok }

// FileError names a file whose content does not match record.json.
type FileError struct {
	Path   string
	Reason string
	Err    error // ErrNotRegular, ErrSize, or the error of the file system; may be nil
}

func (e *FileError) Error() string { return fmt.Sprintf("record: %s: %s", e.Path, e.Reason) }

// Unwrap returns e.Err.
func (e *FileError) Unwrap() error { return e.Err }

// Check hashes every listed file and compares size and SHA-256 with
// record.json; it also reports files in the folder that are not listed.
// It returns one error per bad file, and the number of bytes hashed.
func (r *Record) Check(progress func(n int64)) ([]*FileError, int64) {
	var bad []*FileError
	var total int64
	paths := make([]string, 0, len(r.files))
	for p := range r.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := r.files[p]
		fh, err := openSized(r.Dir, p, f.Size)
		if err != nil {
			bad = append(bad, fileError(p, err))
			continue
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(h, progressWriter(progress)), fh)
		fh.Close()
		total += n
		switch {
		case err != nil:
			bad = append(bad, fileError(p, err))
		case hex.EncodeToString(h.Sum(nil)) != f.SHA256:
			bad = append(bad, &FileError{Path: p, Reason: fmt.Sprintf("SHA-256 %x, record.json says %s", h.Sum(nil), f.SHA256)})
		}
	}
	// Unlisted files (not inside a blocks folder that is not a folder).
	for _, sub := range []string{".", BlocksDir} {
		if fi, err := os.Lstat(filepath.Join(r.Dir, sub)); err != nil || !fi.IsDir() {
			continue
		}
		ents, _ := os.ReadDir(filepath.Join(r.Dir, sub))
		for _, e := range ents {
			p := e.Name()
			if sub != "." {
				p = sub + "/" + p
			}
			if p == BlocksDir && e.IsDir() || p == IndexFile || r.Has(p) {
				continue
			}
			bad = append(bad, &FileError{Path: p, Reason: "not listed in record.json"})
		}
	}
	return bad, total
}

type progressWriter func(int64)

func (p progressWriter) Write(b []byte) (int, error) {
	if p != nil {
		p(int64(len(b)))
	}
	return len(b), nil
}

// Lines calls fn for every line of a listed JSON Lines file, in order, with
// its line number from 1. It stops at fn's first error.
func (r *Record) Lines(path string, fn func(n int, line []byte) error) error {
	if !r.Has(path) {
		return fmt.Errorf("record: %s is not in the record", path)
	}
	return r.LinesMax(path, MaxLine, fn)
}

// LinesMax is Lines for a file whose lines are at most maxLine bytes.
func (r *Record) LinesMax(path string, maxLine int, fn func(n int, line []byte) error) error {
	f, err := r.OpenFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, min(maxLine+1, 1<<20))
	for n := 1; ; n++ {
		line, err := readLine(br, maxLine)
		if err == io.EOF {
			return nil
		}
		var fe *FileError
		if errors.As(err, &fe) {
			return fe
		}
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %v", ErrFormat, path, n, err)
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
}

// readLine reads one '\n'-terminated line of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max+1 {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) > 0:
			return nil, errors.New("last line has no newline")
		default:
			return nil, err
		}
	}
}

// PeekHeight returns the height of a blocks-file line without decoding it
// (lines start with {"height":"N"), or 0.
func PeekHeight(line []byte) int64 {
	const prefix = `{"height":"`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return 0
	}
	rest := line[len(prefix):]
	end := bytes.IndexByte(rest, '"')
	if end < 1 || end > 19 {
		return 0
	}
	h, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0
	}
	return h
}

// Blocks calls fn for the blocks of heights from..to in file order: the
// lines of the files that hold those heights, each decoded, except lines
// whose height (read without decoding) is outside from..to or, if want is
// not nil, not wanted. A line that does not decode goes to bad (if
// non-nil) and is skipped, so one bad line does not hide the rest; a nil
// bad makes it an error.
func (r *Record) Blocks(from, to int64, want func(h int64) bool, fn func(e *Entry) error, bad func(path string, line int, err error) error) error {
	from = max(from, r.Index.FirstHeight)
	to = min(to, r.Index.LastHeight)
	for first := (from-1)/ChunkHeights*ChunkHeights + 1; first <= to; first += ChunkHeights {
		path := BlocksPath(first)
		err := r.Lines(path, func(n int, line []byte) error {
			if h := PeekHeight(line); h != 0 && (h < from || h > to || want != nil && !want(h)) {
				return nil
			}
			e, err := DecodeEntry(line)
			if err != nil {
				if bad != nil {
					return bad(path, n, err)
				}
				return err
			}
			return fn(e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
