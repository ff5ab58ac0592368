package indexer

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// IndexFile is where the index of a workspace is persisted, relative to
// its root, in odo's FileIndex schema so that odo can still read it.
const IndexFile = ".odo/odo-file-index.json"

// indexSchema is the version of odod's own fields that odod writes. In
// schema 1 each entry carried "Mode", "Hash" and "Link" beside odo's
// fields; schema 2 keeps each entry to odo's "Size" and
// "LastModifiedDate" and puts odod's fields, compacted, in the "odod"
// object (see compactFields). Both are read.
const indexSchema = 2

// maxIndexFileSize bounds what is read into memory; an index of a million
// files is about 130 MB.
const maxIndexFileSize = 1 << 30

// IndexFileState says what was found in the persisted index.
type IndexFileState int

const (
	// IndexMissing: no index file; every file is pending as added.
	IndexMissing IndexFileState = iota
	// IndexLoaded: odod's index was read.
	IndexLoaded
	// IndexCorrupt: the file could not be parsed; it was ignored and will be
	// replaced after the next confirmed push.
	IndexCorrupt
	// IndexForeign: a valid file that odod did not write (odo's own, or
	// another schema); ignored like a corrupt one.
	IndexForeign
)

func (s IndexFileState) String() string {
	switch s {
	case IndexMissing:
		return "missing"
	case IndexLoaded:
		return "loaded"
	case IndexCorrupt:
		return "corrupt"
	case IndexForeign:
		return "foreign"
	}
	return "unknown"
}

// persistedIndex is the decoded file: what the last confirmed push left in
// the container.
type persistedIndex struct {
	files   map[string]state
	podUID  string
	state   IndexFileState
	reason  error // why the file was not used, for Corrupt and Foreign
	skipped int   // entries dropped because they were invalid
}

type indexFileJSON struct {
	Kind       string                  `json:"kind"`
	APIVersion string                  `json:"apiVersion"`
	Odod       *ododFieldsJSON         `json:"odod"`
	Files      map[string]fileDataJSON `json:"Files"`
}

type ododFieldsJSON struct {
	Schema int    `json:"schema"`
	PodUID string `json:"podUID"`
	// Schema 2: see compactFields.
	Modes  []uint32          `json:"modes"`
	Runs   []int64           `json:"runs"`
	Hashes []byte            `json:"hashes"` // base64, as encoding/json writes []byte
	Links  map[string]string `json:"links"`
}

// fileDataJSON is odo's FileData plus odod's fields.
type fileDataJSON struct {
	Size             int64  `json:"Size"`
	LastModifiedDate string `json:"LastModifiedDate"`
	Mode             uint32 `json:"Mode"`
	Hash             string `json:"Hash"`
	Link             string `json:"Link"`
}

// decodeIndex parses an index file. It never panics and never fails: what
// it cannot use is reported in the state and reason.
func decodeIndex(data []byte) persistedIndex {
	if p, ok := decodeIndexFast(data); ok {
		return p
	}
	return decodeIndexJSON(data)
}

func decodeIndexJSON(data []byte) persistedIndex {
	var doc indexFileJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return persistedIndex{state: IndexCorrupt, reason: fmt.Errorf("not valid JSON: %w", err)}
	}
	if doc.Kind != "FileIndex" || doc.APIVersion != "v1" {
		return persistedIndex{state: IndexForeign, reason: fmt.Errorf("kind %q apiVersion %q is not odo's FileIndex v1", doc.Kind, doc.APIVersion)}
	}
	if doc.Odod == nil {
		return persistedIndex{state: IndexForeign, reason: errors.New("written by odo, not odod (no odod fields); its mtimes alone cannot tell what the container holds")}
	}
	if doc.Odod.Schema != 1 && doc.Odod.Schema != 2 {
		return persistedIndex{state: IndexForeign, reason: fmt.Errorf("odod schema %d, this odod reads 1 and 2", doc.Odod.Schema)}
	}
	p := persistedIndex{files: make(map[string]state, len(doc.Files)), podUID: doc.Odod.PodUID, state: IndexLoaded}
	if doc.Odod.Schema == 1 {
		for key, fd := range doc.Files {
			st, ok := decodeFileData(key, fd)
			if !ok {
				p.skipped++
				continue
			}
			p.files[key] = st
		}
		return p
	}
	// Schema 2: odod's fields follow the entries in path order.
	c := compactFields{modes: doc.Odod.Modes, runs: doc.Odod.Runs, hashes: doc.Odod.Hashes, links: doc.Odod.Links}
	for _, key := range sortedKeys(doc.Files) {
		fd := doc.Files[key]
		st, ok, valid := c.next(key, fd)
		if !valid {
			return persistedIndex{state: IndexCorrupt, reason: errors.New("odod's fields do not match the entries")}
		}
		if !ok {
			p.skipped++
			continue
		}
		p.files[key] = st
	}
	if !c.done() {
		return persistedIndex{state: IndexCorrupt, reason: errors.New("odod's fields do not match the entries")}
	}
	return p
}

// compactFields are schema 2's odod fields of every entry, in path order:
// runs is [count, code, count, code, …] where code>>1 indexes modes (Unix
// st_mode values) and code&1 says the entry has a content hash, the next
// 8 bytes (big-endian xxh3-64) of hashes; links holds symlink targets by
// path. Per file that is about 11 bytes instead of schema 1's 40.
type compactFields struct {
	modes  []uint32
	runs   []int64
	hashes []byte
	links  map[string]string
	left   int64 // entries left in the current run
	code   int64
}

// next returns the state of the next entry; valid is false when the
// fields run out or are malformed (the file is then corrupt), ok false
// for an invalid entry.
func (c *compactFields) next(key string, fd fileDataJSON) (st state, ok, valid bool) {
	for c.left == 0 {
		if len(c.runs) < 2 || c.runs[0] < 0 || c.runs[1] < 0 || c.runs[1]>>1 >= int64(len(c.modes)) {
			return state{}, false, false
		}
		c.left, c.code, c.runs = c.runs[0], c.runs[1], c.runs[2:]
	}
	c.left--
	var hash uint64
	hashed := c.code&1 != 0
	if hashed {
		if len(c.hashes) < 8 {
			return state{}, false, false
		}
		hash = binary.BigEndian.Uint64(c.hashes)
		c.hashes = c.hashes[8:]
	}
	st, ok = decodeEntry(key, fd.Size, fd.LastModifiedDate, c.modes[c.code>>1], hash, hashed, c.links[key])
	return st, ok, true
}

// done reports whether every field was used.
func (c *compactFields) done() bool { return c.left == 0 && len(c.runs) == 0 && len(c.hashes) == 0 }

// decodeFileData decodes a schema 1 entry.
func decodeFileData(key string, fd fileDataJSON) (state, bool) {
	var h uint64
	if fd.Hash != "" {
		var err error
		h, err = strconv.ParseUint(fd.Hash, 16, 64)
		if err != nil || len(fd.Hash) != 16 {
			return state{}, false
		}
	}
	return decodeEntry(key, fd.Size, fd.LastModifiedDate, fd.Mode, h, fd.Hash != "", fd.Link)
}

// decodeEntry checks and converts one persisted entry.
func decodeEntry(key string, size int64, date string, unixMode uint32, hash uint64, hashed bool, link string) (state, bool) {
	if !validRelPath(key) || size < 0 {
		return state{}, false
	}
	mtime, err := time.Parse(time.RFC3339Nano, date)
	if err != nil {
		return state{}, false
	}
	mode, ok := fileModeFromUnix(unixMode)
	if !ok {
		return state{}, false
	}
	st := state{size: size, mtime: mtime.UnixNano(), mode: mode, flags: flagExists}
	if mode&fs.ModeSymlink != 0 {
		st = st.withLink(key, link)
	}
	if hashed && mode.IsRegular() {
		st = st.withHash(hash)
	}
	return st, true
}

// loadIndexFile streams root's persisted index into emit, without
// building a map or holding the file in memory on the fast path. When the
// fast reader gives up, reset is called and the entries are emitted again
// from encoding/json. A missing or corrupt file is not an error: the
// returned state says so (its files map is nil).
func loadIndexFile(root string, emit func(path string, st state) bool, reset func()) persistedIndex {
	name := filepath.Join(root, filepath.FromSlash(IndexFile))
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return persistedIndex{state: IndexMissing}
	}
	if err != nil {
		return persistedIndex{state: IndexCorrupt, reason: fmt.Errorf("cannot open: %w", err)}
	}
	defer f.Close()
	if uid, ok := streamIndexFast(bufio.NewReaderSize(f, 64<<10), emit); ok {
		return persistedIndex{podUID: uid, state: IndexLoaded}
	}
	reset()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return persistedIndex{state: IndexCorrupt, reason: fmt.Errorf("cannot read: %w", err)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIndexFileSize+1))
	if err != nil {
		return persistedIndex{state: IndexCorrupt, reason: fmt.Errorf("cannot read: %w", err)}
	}
	if len(data) > maxIndexFileSize {
		return persistedIndex{state: IndexCorrupt, reason: fmt.Errorf("larger than %d bytes", maxIndexFileSize)}
	}
	p := decodeIndexJSON(data)
	for k, st := range p.files {
		emit(k, st)
	}
	p.files = nil
	return p
}

// readIndexFile loads root's persisted index into a map.
func readIndexFile(root string) persistedIndex {
	files := map[string]state{}
	p := loadIndexFile(root, func(k string, st state) bool {
		if _, dup := files[k]; dup {
			return false
		}
		files[k] = st
		return true
	}, func() { clear(files) })
	if p.state == IndexLoaded {
		p.files = files
	}
	return p
}

type persistEntry struct {
	path string
	st   state
}

// encodeIndex writes entries (sorting them in place) in odo's schema:
// each entry has odo's two fields, and odod's own (mode, hash, link
// target) are compacted into the "odod" object (schema 2). One entry a
// line, which the fast reader relies on. It is hand-rolled because
// encoding/json would need a map of 100k structs built first.
func encodeIndex(w io.Writer, podUID string, entries []persistEntry) error {
	slices.SortFunc(entries, func(a, b persistEntry) int { return strings.Compare(a.path, b.path) })
	// JSON cannot carry invalid UTF-8; such a file is pushed again next session.
	entries = slices.DeleteFunc(entries, func(e persistEntry) bool { return !utf8.ValidString(e.path) })

	modeIdx := map[uint32]int64{}
	var modes []uint32
	var runs []int64
	hashes := make([]byte, 0, 8*len(entries))
	var links []persistEntry
	for _, e := range entries {
		m := unixMode(e.st.mode)
		idx, ok := modeIdx[m]
		if !ok {
			idx = int64(len(modes))
			modeIdx[m] = idx
			modes = append(modes, m)
		}
		code := idx << 1
		if e.st.hashed() {
			code |= 1
			hashes = binary.BigEndian.AppendUint64(hashes, e.st.hash)
		}
		if n := len(runs); n > 0 && runs[n-1] == code {
			runs[n-2]++
		} else {
			runs = append(runs, 1, code)
		}
		if e.st.target != "" {
			links = append(links, e)
		}
	}

	bw := bufio.NewWriterSize(w, 256<<10)
	buf := make([]byte, 0, 512)
	buf = append(buf, `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":`...)
	buf = strconv.AppendInt(buf, indexSchema, 10)
	buf = append(buf, `,"podUID":`...)
	buf = appendJSONString(buf, podUID)
	buf = append(buf, `,"modes":[`...)
	for i, m := range modes {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendUint(buf, uint64(m), 10)
	}
	buf = append(buf, `],"runs":[`...)
	for i, n := range runs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, n, 10)
	}
	buf = append(buf, `],"hashes":"`...)
	buf = base64.StdEncoding.AppendEncode(buf, hashes)
	buf = append(buf, `","links":{`...)
	for i, l := range links {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, l.path)
		buf = append(buf, ':')
		buf = appendJSONString(buf, l.st.target)
	}
	buf = append(buf, `}},"Files":{`...)
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		buf = appendJSONString(buf, e.path)
		buf = append(buf, `:{"Size":`...)
		buf = strconv.AppendInt(buf, e.st.size, 10)
		buf = append(buf, `,"LastModifiedDate":"`...)
		buf = time.Unix(0, e.st.mtime).UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `"}`...)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
	}
	buf = append(buf, "\n}}\n"...)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			quoted, _ := json.Marshal(s) // a string always marshals
			return append(buf, quoted...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// writeIndexFile replaces root's index atomically: a temp file beside it,
// fsync, rename, fsync of the directory. A crash leaves the old or the new
// index, never half of one. The file is 0600 as in odo 1.2.
func writeIndexFile(root, podUID string, entries []persistEntry) error {
	final := filepath.Join(root, filepath.FromSlash(IndexFile))
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s for the file index: %w; make the workspace writable", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".odo-file-index-*.tmp")
	if err != nil {
		return fmt.Errorf("write the file index in %s: %w; make the directory writable", dir, err)
	}
	cleanup := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write the file index %s: %w; check free space and permissions", final, err)
	}
	if err := encodeIndex(tmp, podUID, entries); err != nil {
		return cleanup(err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("replace the file index %s: %w; check permissions", final, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // makes the rename durable; failure only weakens that
		_ = d.Close()
	}
	return nil
}
