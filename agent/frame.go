// Package agent is odod's file-sync protocol between the daemon and the
// small agent that runs inside the application container
// (`/opt/odo/bin/agent --root /tmp/src`, started over `kubectl exec -i`).
// Both ends import it: container/agentserver is the in-container side,
// Client the daemon's.
//
// # Wire format
//
// The stream is a sequence of frames:
//
//	uint32 big-endian  n        length of what follows (5 + len(payload)), at most MaxFrameSize
//	uint8              type     a FrameType
//	uint32 big-endian  id       the request the frame belongs to (0: the handshake)
//	n-5 bytes          payload  JSON for control frames, raw bytes for data frames
//
// The client opens with Hello (its protocol range); the agent answers
// HelloReply (the chosen protocol and its own version) or Error with code
// "incompatible". After that every request carries a fresh id chosen by the
// client, and every reply frame repeats it, so any number of requests can be
// in flight. A file is PutBegin, any number of PutData chunks, PutEnd (with
// the xxh3-64 hash of the content); the agent writes the chunks to a
// temporary file next to the target and renames it only after PutEnd's size
// and hash check out, so a peer that disappears mid-file leaves nothing
// half-written. Run streams Stdout/Stderr frames and ends with Exit.
//
// Content hashes are xxh3-64 (xxh3.Hash) of the file content, rendered as
// 16 lower-case hex digits (big-endian): the workspace index computes the
// same sum, so a resync compares them directly.
package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"
)

// FrameType says what a frame carries.
type FrameType uint8

// Frame types. Values are part of the wire format: never renumber, only add.
const (
	FrameHello      FrameType = 1  // client→agent, JSON Hello
	FrameHelloReply FrameType = 2  // agent→client, JSON HelloReply
	FramePing       FrameType = 3  // client→agent, empty
	FramePong       FrameType = 4  // agent→client, empty
	FramePutBegin   FrameType = 5  // client→agent, JSON PutBegin
	FramePutData    FrameType = 6  // client→agent, raw content chunk
	FramePutEnd     FrameType = 7  // client→agent, JSON PutEnd
	FrameDelete     FrameType = 8  // client→agent, JSON PathRequest
	FrameMkdir      FrameType = 9  // client→agent, JSON MkdirRequest
	FrameSymlink    FrameType = 10 // client→agent, JSON SymlinkRequest
	FrameList       FrameType = 11 // client→agent, JSON PathRequest
	FrameListBatch  FrameType = 12 // agent→client, JSON ListBatch
	FrameRun        FrameType = 13 // client→agent, JSON RunRequest
	FrameStdout     FrameType = 14 // agent→client, raw output
	FrameStderr     FrameType = 15 // agent→client, raw output
	FrameExit       FrameType = 16 // agent→client, JSON ExitReply
	FrameCancel     FrameType = 17 // client→agent, empty: cancel request id
	FrameOK         FrameType = 18 // agent→client, empty: the request succeeded
	FrameError      FrameType = 19 // agent→client, JSON ErrorReply: the request failed
)

var frameTypeNames = map[FrameType]string{
	FrameHello: "Hello", FrameHelloReply: "HelloReply", FramePing: "Ping", FramePong: "Pong",
	FramePutBegin: "PutBegin", FramePutData: "PutData", FramePutEnd: "PutEnd", FrameDelete: "Delete",
	FrameMkdir: "Mkdir", FrameSymlink: "Symlink", FrameList: "List", FrameListBatch: "ListBatch",
	FrameRun: "Run", FrameStdout: "Stdout", FrameStderr: "Stderr", FrameExit: "Exit",
	FrameCancel: "Cancel", FrameOK: "OK", FrameError: "Error",
}

func (t FrameType) String() string {
	if name, ok := frameTypeNames[t]; ok {
		return name
	}
	return "FrameType(" + strconv.Itoa(int(t)) + ")"
}

const (
	frameHeaderSize = 9 // length(4) + type(1) + id(4)
	// MaxFrameSize bounds the length field, so a corrupt or hostile length
	// cannot make either side allocate more than this for one frame.
	MaxFrameSize = 1<<20 + 5
	// MaxPayloadSize is the largest payload a frame may carry.
	MaxPayloadSize = MaxFrameSize - 5
	// ChunkSize is how much file content one PutData frame carries.
	ChunkSize = 256 << 10
	// OutputChunkSize is how much command output one Stdout/Stderr frame carries.
	OutputChunkSize = 32 << 10
)

// Frame is one decoded frame.
type Frame struct {
	Type    FrameType
	ID      uint32
	Payload []byte
}

// ErrFrameTooLarge reports a length field above MaxFrameSize.
var ErrFrameTooLarge = errors.New("agent: frame too large")

// ReadFrame reads one frame. It returns io.EOF only on a clean end of stream
// between frames; a stream that ends inside a frame gives
// io.ErrUnexpectedEOF. The returned payload is freshly allocated.
func ReadFrame(r io.Reader) (Frame, error) {
	var header [frameHeaderSize]byte
	if _, err := io.ReadFull(r, header[:4]); err != nil {
		return Frame{}, err // io.EOF between frames, ErrUnexpectedEOF inside one
	}
	n := binary.BigEndian.Uint32(header[:4])
	if n < 5 || n > MaxFrameSize {
		return Frame{}, fmt.Errorf("%w: length field %d (bytes %s) is not a valid frame; "+
			"the other end is probably not an odod agent or printed something else on its stdout", ErrFrameTooLarge, n, QuoteBytes(header[:4]))
	}
	if _, err := io.ReadFull(r, header[4:]); err != nil {
		return Frame{}, unexpected(err)
	}
	payload := make([]byte, n-5)
	if _, err := io.ReadFull(r, payload); err != nil {
		return Frame{}, unexpected(err)
	}
	return Frame{Type: FrameType(header[4]), ID: binary.BigEndian.Uint32(header[5:]), Payload: payload}, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// QuoteBytes shows raw bytes as text when they are printable (a shell error
// on the stream, typically), else as hex.
func QuoteBytes(b []byte) string {
	if utf8.Valid(b) {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%x", b)
}

// AppendFrame appends the encoding of one frame to dst.
func AppendFrame(dst []byte, t FrameType, id uint32, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayloadSize {
		return dst, fmt.Errorf("agent: %s payload of %d bytes exceeds the %d-byte limit", t, len(payload), MaxPayloadSize)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)+5))
	dst = append(dst, byte(t))
	dst = binary.BigEndian.AppendUint32(dst, id)
	return append(dst, payload...), nil
}

// FrameWriter serialises frames from many goroutines onto one stream. It
// buffers; callers flush when they are about to wait for the other side, so
// many small frames (a burst of puts) share one write on the exec stream.
type FrameWriter struct {
	mu     sync.Mutex
	bw     *bufio.Writer
	header [frameHeaderSize]byte
	err    error // sticky: after one failed write the stream is unusable
}

func NewFrameWriter(w io.Writer) *FrameWriter {
	return &FrameWriter{bw: bufio.NewWriterSize(w, 64<<10)}
}

func (fw *FrameWriter) WriteFrame(t FrameType, id uint32, payload []byte, flush bool) error {
	if len(payload) > MaxPayloadSize {
		return fmt.Errorf("agent: %s payload of %d bytes exceeds the %d-byte limit", t, len(payload), MaxPayloadSize)
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err != nil {
		return fw.err
	}
	binary.BigEndian.PutUint32(fw.header[:4], uint32(len(payload)+5))
	fw.header[4] = byte(t)
	binary.BigEndian.PutUint32(fw.header[5:], id)
	if _, err := fw.bw.Write(fw.header[:]); err != nil {
		fw.err = err
		return err
	}
	if _, err := fw.bw.Write(payload); err != nil {
		fw.err = err
		return err
	}
	if flush {
		if err := fw.bw.Flush(); err != nil {
			fw.err = err
			return err
		}
	}
	return nil
}

func (fw *FrameWriter) Flush() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err != nil {
		return fw.err
	}
	if err := fw.bw.Flush(); err != nil {
		fw.err = err
	}
	return fw.err
}
