package indexer

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// streamIndexFast reads the exact layout encodeIndex writes, one entry per
// line, as a stream: about ten times faster than encoding/json, and the
// file is never held in memory whole (a 100k-file index is 15 MB, read at
// every workspace open). Anything else, including escapes in strings or an
// invalid entry, returns ok=false and the caller falls back to
// encoding/json, so the result never depends on which path ran
// (FuzzDecodeIndexFastAgrees). emit returns false to reject a duplicate.
func streamIndexFast(r *bufio.Reader, emit func(path string, st state) bool) (podUID string, ok bool) {
	const head = `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":`
	line, err := readLine(r)
	if err != nil {
		return "", false
	}
	rest, ok := bytes.CutPrefix(line, []byte(head))
	if !ok {
		return "", false
	}
	var compact *compactFields
	switch {
	case bytes.HasPrefix(rest, []byte(`1,"podUID":`)):
		rest = rest[len(`1,"podUID":`):]
	case bytes.HasPrefix(rest, []byte(`2,"podUID":`)):
		rest = rest[len(`2,"podUID":`):]
		compact = &compactFields{}
	default:
		return "", false
	}
	uid, rest, ok := cutPlainString(rest)
	if !ok {
		return "", false
	}
	if compact != nil {
		if rest, ok = cutCompactFields(rest, compact); !ok {
			return "", false
		}
	}
	if !bytes.Equal(rest, []byte(`},"Files":{`)) {
		return "", false
	}
	podUID = string(uid)
	last := false
	var prevKey []byte
	for {
		line, err := readLine(r)
		if err != nil {
			return "", false
		}
		if bytes.Equal(line, []byte("}}")) {
			if compact != nil && !compact.done() {
				return "", false
			}
			// Only whitespace may follow.
			tail, err := io.ReadAll(r)
			return podUID, err == nil && len(bytes.TrimSpace(tail)) == 0
		}
		if last {
			return "", false // an entry after one without a comma
		}
		line, last = bytes.CutSuffix(line, []byte(","))
		last = !last
		key, fd, ok := parseEntryLine(line)
		if !ok {
			return "", false
		}
		k := string(key)
		var st state
		valid := false
		if compact == nil {
			st, valid = decodeFileData(k, fd)
		} else if fd.Mode == 0 && fd.Hash == "" && fd.Link == "" && bytes.Compare(key, prevKey) > 0 {
			// Schema 2 entries are odo's fields alone, in path order (the
			// order odod's fields follow; encoding/json sorts the keys).
			var more bool
			st, valid, more = compact.next(k, fd)
			valid = valid && more
			prevKey = append(prevKey[:0], key...)
		}
		if !valid || !emit(k, st) {
			return "", false // rare: encoding/json's path counts and reports it
		}
	}
}

// cutCompactFields reads schema 2's fields after the podUID, exactly as
// encodeIndex writes them.
func cutCompactFields(b []byte, c *compactFields) ([]byte, bool) {
	var ok bool
	if b, ok = bytes.CutPrefix(b, []byte(`,"modes":[`)); !ok {
		return nil, false
	}
	var n int64
	for !bytes.HasPrefix(b, []byte("]")) {
		if len(c.modes) > 0 {
			if b, ok = bytes.CutPrefix(b, []byte(",")); !ok {
				return nil, false
			}
		}
		if n, b, ok = cutInt(b); !ok || n > 1<<32-1 {
			return nil, false
		}
		c.modes = append(c.modes, uint32(n))
	}
	if b, ok = bytes.CutPrefix(b, []byte(`],"runs":[`)); !ok {
		return nil, false
	}
	for !bytes.HasPrefix(b, []byte("]")) {
		if len(c.runs) > 0 {
			if b, ok = bytes.CutPrefix(b, []byte(",")); !ok {
				return nil, false
			}
		}
		if n, b, ok = cutInt(b); !ok {
			return nil, false
		}
		c.runs = append(c.runs, n)
	}
	if b, ok = bytes.CutPrefix(b, []byte(`],"hashes":`)); !ok {
		return nil, false
	}
	var enc []byte
	if enc, b, ok = cutPlainString(b); !ok {
		return nil, false
	}
	var err error
	if c.hashes, err = base64.StdEncoding.AppendDecode(nil, enc); err != nil {
		return nil, false
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"links":{`)); !ok {
		return nil, false
	}
	c.links = map[string]string{}
	for !bytes.HasPrefix(b, []byte("}")) {
		if len(c.links) > 0 {
			if b, ok = bytes.CutPrefix(b, []byte(",")); !ok {
				return nil, false
			}
		}
		var k, v []byte
		if k, b, ok = cutPlainString(b); !ok {
			return nil, false
		}
		if b, ok = bytes.CutPrefix(b, []byte(":")); !ok {
			return nil, false
		}
		if v, b, ok = cutPlainString(b); !ok {
			return nil, false
		}
		if _, dup := c.links[string(k)]; dup {
			return nil, false // encoding/json's last-wins is the reference
		}
		c.links[string(k)] = string(v)
	}
	return b[1:], true
}

// readLine returns one line without its "\n"; a missing final newline is
// accepted.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Longer than the buffer (a very long path): copy it together.
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return nil, err
	}
	return bytes.TrimSuffix(line, []byte("\n")), nil
}

func parseEntryLine(rest []byte) (key []byte, fd fileDataJSON, ok bool) {
	if key, rest, ok = cutPlainString(rest); !ok {
		return nil, fd, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`:{"Size":`)); !ok {
		return nil, fd, false
	}
	if fd.Size, rest, ok = cutInt(rest); !ok {
		return nil, fd, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"LastModifiedDate":`)); !ok {
		return nil, fd, false
	}
	var date []byte
	if date, rest, ok = cutPlainString(rest); !ok {
		return nil, fd, false
	}
	fd.LastModifiedDate = string(date)
	if r, has := bytes.CutPrefix(rest, []byte(`,"Mode":`)); has {
		var mode int64
		if mode, rest, ok = cutInt(r); !ok || mode > 1<<32-1 {
			return nil, fd, false
		}
		fd.Mode = uint32(mode)
	}
	if r, has := bytes.CutPrefix(rest, []byte(`,"Hash":`)); has {
		var h []byte
		if h, rest, ok = cutPlainString(r); !ok {
			return nil, fd, false
		}
		fd.Hash = string(h)
	}
	if r, has := bytes.CutPrefix(rest, []byte(`,"Link":`)); has {
		var l []byte
		if l, rest, ok = cutPlainString(r); !ok {
			return nil, fd, false
		}
		fd.Link = string(l)
	}
	if !bytes.Equal(rest, []byte("}")) {
		return nil, fd, false
	}
	return key, fd, true
}

// decodeIndexFast is streamIndexFast over a byte slice, into a map.
func decodeIndexFast(data []byte) (persistedIndex, bool) {
	p := persistedIndex{files: map[string]state{}, state: IndexLoaded}
	uid, ok := streamIndexFast(bufio.NewReader(bytes.NewReader(data)), func(k string, st state) bool {
		if _, dup := p.files[k]; dup {
			return false // encoding/json's last-wins is the reference
		}
		p.files[k] = st
		return true
	})
	p.podUID = uid
	return p, ok
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
