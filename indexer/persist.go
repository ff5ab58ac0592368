package indexer

import (
	"bufio"
	"encoding/hex"
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

// indexSchema is the version of odod's own fields in the index file.
const indexSchema = 1

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
	if doc.Odod.Schema != indexSchema {
		return persistedIndex{state: IndexForeign, reason: fmt.Errorf("odod schema %d, this odod reads %d", doc.Odod.Schema, indexSchema)}
	}
	p := persistedIndex{files: make(map[string]state, len(doc.Files)), podUID: doc.Odod.PodUID, state: IndexLoaded}
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

func decodeFileData(key string, fd fileDataJSON) (state, bool) {
	if !validRelPath(key) || fd.Size < 0 {
		return state{}, false
	}
	mtime, err := time.Parse(time.RFC3339Nano, fd.LastModifiedDate)
	if err != nil {
		return state{}, false
	}
	mode, ok := fileModeFromUnix(fd.Mode)
	if !ok {
		return state{}, false
	}
	st := state{size: fd.Size, mtime: mtime.UnixNano(), mode: mode, flags: flagExists}
	if mode&fs.ModeSymlink != 0 {
		st = st.withLink(key, fd.Link)
	}
	if fd.Hash != "" {
		h, err := strconv.ParseUint(fd.Hash, 16, 64)
		if err != nil || len(fd.Hash) != 16 {
			return state{}, false
		}
		if mode.IsRegular() {
			st = st.withHash(h)
		}
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

// encodeIndex writes entries (sorting them in place) in odo's schema, odod's fields
// beside odo's. It is hand-rolled because encoding/json would need a map
// of 100k structs built first.
func encodeIndex(w io.Writer, podUID string, entries []persistEntry) error {
	slices.SortFunc(entries, func(a, b persistEntry) int { return strings.Compare(a.path, b.path) })
	bw := bufio.NewWriterSize(w, 256<<10)
	buf := make([]byte, 0, 512)
	buf = append(buf, `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":`...)
	buf = strconv.AppendInt(buf, indexSchema, 10)
	buf = append(buf, `,"podUID":`...)
	buf = appendJSONString(buf, podUID)
	buf = append(buf, `},"Files":{`...)
	first := true
	for _, e := range entries {
		if !utf8.ValidString(e.path) {
			// JSON cannot carry it; the file is pushed again next session.
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, '\n')
		buf = appendJSONString(buf, e.path)
		buf = append(buf, `:{"Size":`...)
		buf = strconv.AppendInt(buf, e.st.size, 10)
		buf = append(buf, `,"LastModifiedDate":"`...)
		buf = time.Unix(0, e.st.mtime).UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `","Mode":`...)
		buf = strconv.AppendUint(buf, uint64(unixMode(e.st.mode)), 10)
		if e.st.hashed() {
			buf = append(buf, `,"Hash":"`...)
			var h [8]byte
			for i := range h {
				h[i] = byte(e.st.hash >> (56 - 8*i))
			}
			buf = hex.AppendEncode(buf, h[:])
			buf = append(buf, '"')
		}
		if e.st.target != "" {
			buf = append(buf, `,"Link":`...)
			buf = appendJSONString(buf, e.st.target)
		}
		buf = append(buf, '}')
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
