package credential

import (
	"bufio"
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
// streaming the keys: one key per line, as 64 lower-case hex digits. The
// output is a function of the roll alone, so the file has one SHA-256.
func (r *Roll) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	id := strictjson.AppendString(nil, r.hdr.ElectionID)
	k := r.hdr.KDF
	fmt.Fprintf(bw, "{\n  \"format\": %q,\n  \"version\": %d,\n  \"election_id\": %s,\n", rollFormat, RollVersion, id)
	fmt.Fprintf(bw, "  \"kdf\": {\"algorithm\": \"argon2id\", \"time\": %d, \"memory_kib\": %d, \"threads\": %d},\n", k.Time, k.MemoryKiB, k.Threads)
	fmt.Fprintf(bw, "  \"count\": %d,\n  \"roll_hash\": \"%x\",\n  \"keys\": [", r.hdr.Count, r.hash)
	var line [4 + 2*PublicKeySize + 2]byte
	for i := range r.hdr.Count {
		sep := ",\n    \""
		if i == 0 {
			sep = "\n    \""
		}
		b := append(line[:0], sep...)
		b = hex.AppendEncode(b, r.key(i))
		b = append(b, '"')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}

// ReadJSON reads a roll's JSON form from r, up to the end of r. It is strict:
// every member exactly once ("roll_hash" optional, but checked when present),
// no other member, integers without fraction or exponent, keys as 64
// lower-case hex digits, and as many keys as "count" says; and the JSON is
// strict JSON (internal/strictjson: valid UTF-8, no duplicate names). Like
// ReadBinary, it needs little more memory than the keys.
func ReadJSON(r io.Reader) (*Roll, error) {
	dec := strictjson.NewDecoder(r)
	var (
		h        Header
		version  uint64
		format   string
		rollHash string
		keys     []byte
		nkeys    int
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
		case "roll_hash":
			rollHash, err = readString(dec, name)
		case "kdf":
			err = readKDF(dec, &h.KDF)
		case "keys":
			keys, nkeys, err = readKeys(dec, h.Count)
		default:
			err = fmt.Errorf("unknown member %q", name)
		}
		return err
	}, []string{"format", "version", "election_id", "kdf", "count", "keys"})
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
	case nkeys != h.Count:
		return nil, jsonErr(fmt.Errorf("count is %d but %d keys are listed", h.Count, nkeys))
	}
	if err := h.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedRoll, err)
	}
	roll, err := newRoll(h, keys)
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

// readKeys reads the keys array; count, if known already, sizes the memory.
func readKeys(dec *strictjson.Decoder, count int) ([]byte, int, error) {
	if err := expect(dec, strictjson.Array, "keys"); err != nil {
		return nil, 0, err
	}
	var keys []byte
	n := 0
	err := dec.ReadArray(func() error {
		if n == MaxRollSize {
			return fmt.Errorf("keys: more than %d", MaxRollSize)
		}
		s, err := readString(dec, "keys")
		if err != nil {
			return err
		}
		if !isLowerHex(s, 2*PublicKeySize) {
			return fmt.Errorf("keys: the key at index %d is not %d lower-case hex digits", n, 2*PublicKeySize)
		}
		keys = growKeys(keys, PublicKeySize, count)
		hex.Decode(keys[len(keys)-PublicKeySize:], []byte(s))
		n++
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return keys, n, nil
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
