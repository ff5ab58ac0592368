package agent

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/zeebo/xxh3"
)

// Protocol versions. The client offers [MinProtocol, MaxProtocol]; the agent
// picks the highest version both speak. Bump MaxProtocol when adding frame
// types or fields an older agent would not understand, and gate their use on
// Client.Protocol().
const (
	MinProtocol = 1
	MaxProtocol = 1
)

// HelloMagic identifies both ends, so a stray program on the exec stream is
// reported as such instead of as a protocol error.
const HelloMagic = "odod-agent"

// TempPrefix starts the name of every temporary file the agent writes;
// List never reports such files.
const TempPrefix = ".odod-tmp-"

// Hello opens a session: the client's protocol range.
type Hello struct {
	Magic       string `json:"magic"`
	MinProtocol int    `json:"minProtocol"`
	MaxProtocol int    `json:"maxProtocol"`
	Client      string `json:"client,omitempty"`
}

// NewHello is the handshake this version of odod sends.
func NewHello(client string) Hello {
	return Hello{Magic: HelloMagic, MinProtocol: MinProtocol, MaxProtocol: MaxProtocol, Client: client}
}

// HelloReply is the agent's answer: the protocol it chose.
type HelloReply struct {
	Magic        string `json:"magic"`
	Protocol     int    `json:"protocol"`
	AgentVersion string `json:"agentVersion"`
	Root         string `json:"root"`
}

// PutBegin starts a file: its path, permission bits and size.
type PutBegin struct {
	Path string `json:"path"`
	Mode uint32 `json:"mode"` // permission bits
	Size int64  `json:"size"`
}

// PutEnd ends a file: the hash of its content, or an abort.
type PutEnd struct {
	Hash  string `json:"hash,omitempty"`
	Abort bool   `json:"abort,omitempty"` // the client could not read the source: discard
}

// PathRequest names one path (Delete, List).
type PathRequest struct {
	Path string `json:"path"`
}

// MkdirRequest creates a directory.
type MkdirRequest struct {
	Path string `json:"path"`
	Mode uint32 `json:"mode"`
}

// SymlinkRequest creates a symbolic link.
type SymlinkRequest struct {
	Path   string `json:"path"`
	Target string `json:"target"`
}

// ListBatch is one batch of List's entries.
type ListBatch struct {
	Entries []Entry `json:"entries"`
}

// RunRequest runs a command in the container.
type RunRequest struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"` // relative to the root
}

// ExitReply is a command's exit code.
type ExitReply struct {
	Code int `json:"code"`
}

// ErrorReply is a failed request: a Code* and a message.
type ErrorReply struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes carried by Error frames.
const (
	CodeInvalid      = "invalid"      // malformed request or path
	CodeNotExist     = "not-exist"    // the path does not exist
	CodeEscapesRoot  = "escapes-root" // the path leaves the root (.., or through a symlink)
	CodeChecksum     = "checksum"     // size or hash of put content did not match
	CodeIO           = "io"           // the file system refused
	CodeIncompatible = "incompatible" // no common protocol version
	CodeUnsupported  = "unsupported"  // the agent does not know this frame type
	CodeCanceled     = "canceled"     // the request was canceled
)

// Entry is one file, directory or symlink reported by List.
type Entry struct {
	// Path is slash-separated and relative to the agent's root.
	Path string `json:"path"`
	// Size is the file size in bytes (0 for directories).
	Size int64 `json:"size"`
	// Mode is Go's fs.FileMode: type bits plus permissions.
	Mode fs.FileMode `json:"mode"`
	// Hash is HashBytes of the content, for regular files only.
	Hash string `json:"hash,omitempty"`
	// LinkTarget is the symlink's target, for symlinks only.
	LinkTarget string `json:"linkTarget,omitempty"`
}

// RemoteError is a request the agent refused or failed.
type RemoteError struct {
	Op      string // the frame type of the request, e.g. "PutBegin"
	Path    string
	Code    string // one of the Code constants
	Message string
}

func (e *RemoteError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("agent %s %q: %s", e.Op, e.Path, e.Message)
	}
	return fmt.Sprintf("agent %s: %s", e.Op, e.Message)
}

// Is lets errors.Is(err, fs.ErrNotExist) work on remote errors.
func (e *RemoteError) Is(target error) bool {
	return target == fs.ErrNotExist && e.Code == CodeNotExist
}

// ErrIncompatibleAgent is returned by NewClient when the agent in the
// container speaks no protocol version this odod speaks.
var ErrIncompatibleAgent = errors.New("the odod agent in the container is incompatible with this odod; " +
	"re-create the pod (odod delete, then odod push) so it gets the current init image")

// HashBytes is the content hash both the agent and the workspace index use:
// xxh3-64 of the content, as HashUint64 renders it.
func HashBytes(b []byte) string {
	return HashUint64(xxh3.Hash(b))
}

// HashUint64 renders an xxh3-64 sum as the protocol does: 16 lower-case
// hex digits. The workspace index keeps the same sum as a uint64.
func HashUint64(sum uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], sum)
	return hex.EncodeToString(b[:])
}

// NewHasher returns a streaming hasher whose HashSum matches HashBytes.
func NewHasher() *Hasher { return &Hasher{h: xxh3.New()} }

// Hasher is a streaming content hasher (see HashBytes).
type Hasher struct{ h *xxh3.Hasher }

// Write adds content; it never fails.
func (h *Hasher) Write(p []byte) (int, error) { return h.h.Write(p) }

// HashSum returns the hash of everything written so far.
func (h *Hasher) HashSum() string { return HashUint64(h.h.Sum64()) }

// CleanPath validates a request path and returns it in canonical form:
// relative, slash-separated, no "." or ".." components, no NUL. The root
// itself is ".".
func CleanPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty path; use \".\" for the root")
	case strings.ContainsRune(p, 0):
		return "", errors.New("path contains a NUL byte")
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("path %q is absolute; paths are relative to the agent's root", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q has a \"..\" component; paths must stay under the agent's root", p)
		}
	}
	return path.Clean(p), nil
}

func DecodeJSON(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("malformed request: %w", err)
	}
	return nil
}

func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs of strings and numbers are marshalled here.
		panic(fmt.Sprintf("agent: marshal %T: %v", v, err))
	}
	return b
}
