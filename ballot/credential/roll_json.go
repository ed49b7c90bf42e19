package credential

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/evote/evote/internal/strictjson"
)

// rollFormat is the "format" member of a roll's JSON form.
const rollFormat = "evote-credential-roll"

// WriteJSON writes the roll's JSON form (docs/credentials.md, §4.2) to w,
// streaming the entries, one per line. The output is a function of the roll
// alone, so the file has one SHA-256.
func (r *Roll) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	id := strictjson.AppendString(nil, r.hdr.ElectionID)
	k := r.hdr.KDF
	fmt.Fprintf(bw, "{\n  \"format\": %q,\n  \"version\": %d,\n  \"election_id\": %s,\n", rollFormat, RollVersion, id)
	fmt.Fprintf(bw, "  \"kdf\": {\"algorithm\": \"argon2id\", \"time\": %d, \"memory_kib\": %d, \"threads\": %d},\n", k.Time, k.MemoryKiB, k.Threads)
	fmt.Fprintf(bw, "  \"count\": %d,\n  \"total_weight\": %d,\n  \"styles\": [", r.hdr.Count, r.hdr.TotalWeight)
	quoted := make([][]byte, len(r.hdr.Styles))
	for i, s := range r.hdr.Styles {
		quoted[i] = strictjson.AppendString(nil, s)
		if i > 0 {
			bw.WriteString(", ")
		}
		bw.Write(quoted[i])
	}
	fmt.Fprintf(bw, "],\n  \"roll_hash\": \"%x\",\n  \"entries\": [", r.hash)
	var line []byte
	for i := range r.hdr.Count {
		sep := ",\n    {\"key\": \""
		if i == 0 {
			sep = "\n    {\"key\": \""
		}
		key, st, weight := EntryAt(r.entries, i)
		b := append(line[:0], sep...)
		b = hex.AppendEncode(b, key)
		b = append(b, "\", \"style\": "...)
		b = append(b, quoted[st]...)
		b = append(b, ", \"weight\": "...)
		b = strconv.AppendUint(b, weight, 10)
		b = append(b, '}')
		if _, err := bw.Write(b); err != nil {
			return err
		}
		line = b
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}

// ReadJSON reads a roll's JSON form from r, up to the end of r. It is strict:
// every member exactly once ("roll_hash" optional, but checked when present),
// no other member, integers without fraction or exponent, keys as 64
// lower-case hex digits, each entry's style one of "styles", and as many
// entries as "count" says; and the JSON is strict JSON (internal/strictjson:
// valid UTF-8, no duplicate names). Members may come in any order. Like
// ReadBinary, it needs little more memory than the entries.
func ReadJSON(r io.Reader) (*Roll, error) {
	dec := strictjson.NewDecoder(r)
	var (
		h        Header
		version  uint64
		format   string
		rollHash string
		entries  []byte
		nentries int
		named    []string // the styles the entries name, by index in the order first named
	)
	err := readObject(dec, "roll", func(name string) error {
		var err error
		switch name {
		case "format":
			format, err = readString(dec, name)
		case "version":
			version, err = readUint(dec, name, 16)
		case "election_id":
			h.ElectionID, err = readString(dec, name)
		case "count":
			var n uint64
			n, err = readUint(dec, name, 32)
			h.Count = int(n)
		case "total_weight":
			h.TotalWeight, err = readUint(dec, name, 64)
		case "styles":
			h.Styles, err = readStyles(dec)
		case "roll_hash":
			rollHash, err = readString(dec, name)
		case "kdf":
			err = readKDF(dec, &h.KDF)
		case "entries":
			entries, nentries, named, err = readEntries(dec, h.Count)
		default:
			err = fmt.Errorf("unknown member %q", name)
		}
		return err
	}, []string{"format", "version", "election_id", "kdf", "count", "total_weight", "styles", "entries"})
	if err != nil {
		return nil, jsonErr(err)
	}
	if err := dec.End(); errors.Is(err, strictjson.ErrTrailingData) {
		return nil, jsonErr(errors.New("data after the roll object"))
	} else if err != nil {
		return nil, jsonErr(err)
	}
	switch {
	case format != rollFormat:
		return nil, jsonErr(fmt.Errorf("format is %q, want %q", format, rollFormat))
	case version != RollVersion:
		return nil, jsonErr(fmt.Errorf("format version %d, this program reads version %d", version, RollVersion))
	case nentries != h.Count:
		return nil, jsonErr(fmt.Errorf("count is %d but %d entries are listed", h.Count, nentries))
	}
	if err := h.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedRoll, err)
	}
	// The entries named their styles in the order first seen; renumber
	// them by the header's list.
	remap := make([]uint16, len(named))
	for i, s := range named {
		j, ok := h.Style(s)
		if !ok {
			return nil, jsonErr(fmt.Errorf("entries: ballot style %q is not in \"styles\"", s))
		}
		remap[i] = uint16(j)
	}
	for i := range nentries {
		st := entries[i*EntrySize+PublicKeySize:]
		binary.BigEndian.PutUint16(st, remap[binary.BigEndian.Uint16(st)])
	}
	roll, err := newRoll(h, entries)
	if err != nil {
		return nil, err
	}
	if rollHash != "" && rollHash != hex.EncodeToString(roll.hash[:]) {
		return nil, jsonErr(fmt.Errorf("roll_hash %s does not match the roll, whose hash is %x", rollHash, roll.hash))
	}
	return roll, nil
}

func jsonErr(err error) error {
	var se *strictjson.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: JSON %w", ErrMalformedRoll, se)
	}
	return fmt.Errorf("%w: JSON: %w", ErrMalformedRoll, err)
}

// readObject reads a JSON object, calling member for each member name; member
// must consume the value. It rejects a missing required name (and the
// decoder a name given twice).
func readObject(dec *strictjson.Decoder, what string, member func(name string) error, required []string) error {
	if err := expect(dec, strictjson.Object, what); err != nil {
		return err
	}
	seen := make(map[string]bool)
	err := dec.ReadObject(func(name string) error {
		seen[name] = true
		if err := member(name); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range required {
		if !seen[name] {
			return fmt.Errorf("%s: missing member %q", what, name)
		}
	}
	return nil
}

// expect checks that the next value is of kind want.
func expect(dec *strictjson.Decoder, want strictjson.Kind, what string) error {
	k, err := dec.Peek()
	if err != nil {
		return err
	}
	if k != want {
		return fmt.Errorf("%s: want %s, got %s", what, describe(want), describe(k))
	}
	return nil
}

func describe(k strictjson.Kind) string {
	switch k {
	case strictjson.Object:
		return `"{"`
	case strictjson.Array:
		return `"["`
	}
	return k.String()
}

func readString(dec *strictjson.Decoder, name string) (string, error) {
	if err := expect(dec, strictjson.String, name); err != nil {
		return "", err
	}
	return dec.ReadString()
}

func readUint(dec *strictjson.Decoder, name string, bits int) (uint64, error) {
	k, err := dec.Peek()
	if err != nil {
		return 0, err
	}
	if k != strictjson.Number {
		return 0, fmt.Errorf("%s: want a whole number, got %s", name, describe(k))
	}
	n, err := dec.ReadNumber()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(n, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%s: %s is not a whole number of at most %d bits", name, n, bits)
	}
	return v, nil
}

func readKDF(dec *strictjson.Decoder, p *KDFParams) error {
	var alg string
	err := readObject(dec, "kdf", func(name string) error {
		var (
			v   uint64
			err error
		)
		switch name {
		case "algorithm":
			alg, err = readString(dec, name)
		case "time":
			v, err = readUint(dec, name, 32)
			p.Time = uint32(v)
		case "memory_kib":
			v, err = readUint(dec, name, 32)
			p.MemoryKiB = uint32(v)
		case "threads":
			v, err = readUint(dec, name, 8)
			p.Threads = uint8(v)
		default:
			err = fmt.Errorf("unknown member %q", name)
		}
		return err
	}, []string{"algorithm", "time", "memory_kib", "threads"})
	if err != nil {
		return err
	}
	if alg != "argon2id" {
		return fmt.Errorf("kdf: algorithm %q, want \"argon2id\"", alg)
	}
	return nil
}

// readStyles reads the styles array.
func readStyles(dec *strictjson.Decoder) ([]string, error) {
	if err := expect(dec, strictjson.Array, "styles"); err != nil {
		return nil, err
	}
	var styles []string
	err := dec.ReadArray(func() error {
		if len(styles) == MaxStyles {
			return fmt.Errorf("styles: more than %d", MaxStyles)
		}
		s, err := readString(dec, "styles")
		styles = append(styles, s)
		return err
	})
	return styles, err
}

// readEntries reads the entries array; count, if known already, sizes the
// memory. Each entry's style is stored as its index in named, the styles in
// the order the entries first name them, for ReadJSON to renumber.
func readEntries(dec *strictjson.Decoder, count int) ([]byte, int, []string, error) {
	if err := expect(dec, strictjson.Array, "entries"); err != nil {
		return nil, 0, nil, err
	}
	var (
		entries []byte
		named   []string
		n       int
	)
	index := map[string]int{}
	err := dec.ReadArray(func() error {
		if n == MaxRollSize {
			return fmt.Errorf("entries: more than %d", MaxRollSize)
		}
		var (
			key    [PublicKeySize]byte
			style  string
			weight uint64
		)
		what := fmt.Sprintf("entries: the entry at index %d", n)
		err := readObject(dec, what, func(name string) error {
			switch name {
			case "key":
				s, err := readString(dec, name)
				if err != nil {
					return err
				}
				if !isLowerHex(s, 2*PublicKeySize) {
					return fmt.Errorf("key is not %d lower-case hex digits", 2*PublicKeySize)
				}
				hex.Decode(key[:], []byte(s))
				return nil
			case "style":
				var err error
				style, err = readString(dec, name)
				return err
			case "weight":
				var err error
				weight, err = readUint(dec, name, 64)
				return err
			}
			return fmt.Errorf("unknown member %q", name)
		}, []string{"key", "style", "weight"})
		if err != nil {
			return err
		}
		st, ok := index[style]
		if !ok {
			if len(named) == MaxStyles {
				return fmt.Errorf("%s: more than %d different ballot styles", what, MaxStyles)
			}
			st = len(named)
			index[style] = st
			named = append(named, style)
		}
		entries = growEntries(entries, EntrySize, count)
		AppendEntry(entries[:len(entries)-EntrySize], key[:], st, weight)
		n++
		return nil
	})
	if err != nil {
		return nil, 0, nil, err
	}
	return entries, n, named, nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
