package indexer

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// decodeIndexFast reads the exact layout encodeIndex writes, one entry per
// line, about ten times faster than encoding/json (a 100k-file index is
// read at every workspace open). Anything else, including escapes in
// strings, returns ok=false and the caller uses encoding/json, so the
// result never depends on which path ran (FuzzDecodeIndexFastAgrees).
func decodeIndexFast(data []byte) (p persistedIndex, ok bool) {
	const head = `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1,"podUID":`
	rest, ok := bytes.CutPrefix(data, []byte(head))
	if !ok {
		return p, false
	}
	podUID, rest, ok := cutPlainString(rest)
	if !ok {
		return p, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`},"Files":{`)); !ok {
		return p, false
	}
	p = persistedIndex{files: map[string]state{}, podUID: string(podUID), state: IndexLoaded}
	first := true
	for {
		if tail, done := bytes.CutPrefix(rest, []byte("\n}}")); done {
			if len(bytes.TrimSpace(tail)) != 0 {
				return p, false
			}
			return p, true
		}
		if !first {
			if rest, ok = bytes.CutPrefix(rest, []byte(",")); !ok {
				return p, false
			}
		}
		first = false
		if rest, ok = bytes.CutPrefix(rest, []byte("\n")); !ok {
			return p, false
		}
		var key []byte
		var fd fileDataJSON
		if key, rest, ok = cutPlainString(rest); !ok {
			return p, false
		}
		if rest, ok = bytes.CutPrefix(rest, []byte(`:{"Size":`)); !ok {
			return p, false
		}
		if fd.Size, rest, ok = cutInt(rest); !ok {
			return p, false
		}
		if rest, ok = bytes.CutPrefix(rest, []byte(`,"LastModifiedDate":`)); !ok {
			return p, false
		}
		var date []byte
		if date, rest, ok = cutPlainString(rest); !ok {
			return p, false
		}
		fd.LastModifiedDate = string(date)
		if rest, ok = bytes.CutPrefix(rest, []byte(`,"Mode":`)); !ok {
			return p, false
		}
		var mode int64
		if mode, rest, ok = cutInt(rest); !ok || mode > 1<<32-1 {
			return p, false
		}
		fd.Mode = uint32(mode)
		if r, has := bytes.CutPrefix(rest, []byte(`,"Hash":`)); has {
			var h []byte
			if h, rest, ok = cutPlainString(r); !ok {
				return p, false
			}
			fd.Hash = string(h)
		}
		if r, has := bytes.CutPrefix(rest, []byte(`,"Link":`)); has {
			var l []byte
			if l, rest, ok = cutPlainString(r); !ok {
				return p, false
			}
			fd.Link = string(l)
		}
		if rest, ok = bytes.CutPrefix(rest, []byte("}")); !ok {
			return p, false
		}
		k := string(key)
		if _, dup := p.files[k]; dup {
			return p, false // encoding/json's last-wins is the reference
		}
		st, valid := decodeFileData(k, fd)
		if !valid {
			return p, false // rare: let encoding/json's path count and report it
		}
		p.files[k] = st
	}
}

// cutPlainString reads a JSON string without escapes or control bytes.
func cutPlainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	s = b[1 : 1+end]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, nil, false
	}
	return s, b[2+end:], true
}

// cutInt reads a non-negative JSON integer.
func cutInt(b []byte) (int64, []byte, bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || (i > 1 && b[0] == '0') {
		return 0, nil, false
	}
	n, err := strconv.ParseInt(string(b[:i]), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return n, b[i:], true
}
