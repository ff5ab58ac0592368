package indexer

import (
	"bufio"
	"bytes"
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
	const head = `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1,"podUID":`
	line, err := readLine(r)
	if err != nil {
		return "", false
	}
	rest, ok := bytes.CutPrefix(line, []byte(head))
	if !ok {
		return "", false
	}
	uid, rest, ok := cutPlainString(rest)
	if !ok || !bytes.Equal(rest, []byte(`},"Files":{`)) {
		return "", false
	}
	podUID = string(uid)
	last := false
	for {
		line, err := readLine(r)
		if err != nil {
			return "", false
		}
		if bytes.Equal(line, []byte("}}")) {
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
		st, valid := decodeFileData(k, fd)
		if !valid || !emit(k, st) {
			return "", false // rare: encoding/json's path counts and reports it
		}
	}
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
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"Mode":`)); !ok {
		return nil, fd, false
	}
	var mode int64
	if mode, rest, ok = cutInt(rest); !ok || mode > 1<<32-1 {
		return nil, fd, false
	}
	fd.Mode = uint32(mode)
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
