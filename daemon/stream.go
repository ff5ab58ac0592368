package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/protocol"
)

// MaxFrameBytes bounds one message. LSP messages are small; a Content-Length
// above this is a broken or hostile peer, and reading it would exhaust memory.
const MaxFrameBytes = 64 << 20

// maxHeaderBytes bounds the header block of one frame.
const maxHeaderBytes = 8 << 10

// FrameError is a framing failure (bad header, absurd length): the byte
// stream can no longer be trusted, so the connection ends.
type FrameError struct{ Reason string }

func (e *FrameError) Error() string { return "jsonrpc framing: " + e.Reason }

// stream is a jsonrpc2.ObjectStream with LSP framing. Writing uses
// jsonrpc2.VSCodeObjectCodec. Reading is done here because the codec's
// reader cannot recover from a well-framed message with malformed JSON (it
// leaves the rest of the frame unread) and accepts lengths up to 4 GiB: we
// read each frame whole, answer -32700/-32600 for a bad body and go on.
type stream struct {
	r      *bufio.Reader
	closer io.Closer
	log    *zap.Logger

	mu sync.Mutex // serializes writes
	w  *bufio.Writer
}

func newStream(r io.Reader, w io.Writer, closer io.Closer, log *zap.Logger) *stream {
	return &stream{r: bufio.NewReader(r), w: bufio.NewWriter(w), closer: closer, log: log}
}

// WriteObject implements jsonrpc2.ObjectStream.
func (s *stream) WriteObject(obj any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := (jsonrpc2.VSCodeObjectCodec{}).WriteObject(s.w, obj); err != nil {
		return err
	}
	return s.w.Flush()
}

// ReadObject implements jsonrpc2.ObjectStream. Bodies that are not valid
// JSON-RPC are answered here and skipped; only framing errors and EOF are
// returned (and end the connection).
func (s *stream) ReadObject(v any) error {
	for {
		body, err := readFrame(s.r)
		if err != nil {
			var fe *FrameError
			if errors.As(err, &fe) {
				s.log.Error("closing connection: malformed frame", zap.String("reason", fe.Reason))
			}
			return err
		}
		id, rpcErr := checkMessage(body)
		if rpcErr == nil {
			if err := json.Unmarshal(body, v); err == nil {
				return nil
			} else {
				rpcErr = invalidRequest(err.Error())
			}
		}
		s.log.Warn("answering a malformed message", zap.Int("code", int(rpcErr.Code)), zap.String("message", rpcErr.Message))
		if err := s.WriteObject(errorResponse{JSONRPC: "2.0", ID: id, Error: rpcErr}); err != nil {
			return err
		}
	}
}

// Close implements jsonrpc2.ObjectStream.
func (s *stream) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// errorResponse is a response written by the stream itself, for messages
// the connection never sees. ID is null when it could not be read.
type errorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   *jsonrpc2.Error `json:"error"`
}

// readFrame reads one LSP base-protocol frame and returns its body.
func readFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	headerBytes := 0
	for first := true; ; first = false {
		line, err := r.ReadString('\n')
		headerBytes += len(line)
		if err != nil {
			if err == io.EOF && first && line == "" {
				return nil, io.EOF
			}
			if err == io.EOF {
				return nil, &FrameError{Reason: "connection closed inside a header"}
			}
			return nil, err
		}
		if headerBytes > maxHeaderBytes {
			return nil, &FrameError{Reason: fmt.Sprintf("header block longer than %d bytes", maxHeaderBytes)}
		}
		if !strings.HasSuffix(line, "\r\n") {
			return nil, &FrameError{Reason: `header line not terminated by \r\n`}
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, &FrameError{Reason: fmt.Sprintf("header line %q has no colon", truncate(line, 80))}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || n < 0 {
				return nil, &FrameError{Reason: fmt.Sprintf("Content-Length %q is not a length", truncate(value, 40))}
			}
			if n > MaxFrameBytes {
				return nil, &FrameError{Reason: fmt.Sprintf("Content-Length %d exceeds the %d-byte limit", n, MaxFrameBytes)}
			}
			length = int(n)
		case "content-type":
			// LSP allows only utf-8 (and the legacy "utf8"); anything
			// else is accepted but logged nowhere: JSON is UTF-8 anyway.
		}
	}
	if length < 0 {
		return nil, &FrameError{Reason: "no Content-Length header"}
	}
	body := make([]byte, length)
	if n, err := io.ReadFull(r, body); err != nil {
		return nil, &FrameError{Reason: fmt.Sprintf("connection closed %d bytes into a %d-byte body", n, length)}
	}
	return body, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkMessage validates a body as a single JSON-RPC 2.0 message. It
// returns the message id when it can be read (so an error answer can name
// it) and a parse (-32700) or invalid-request (-32600) error.
func checkMessage(body []byte) (json.RawMessage, *jsonrpc2.Error) {
	null := json.RawMessage("null")
	if !json.Valid(body) {
		return null, parseError()
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return null, invalidRequest("batch messages are not supported: send one JSON-RPC object per frame")
	}
	var m struct {
		JSONRPC *string         `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  json.RawMessage `json:"method"`
		Params  json.RawMessage `json:"params"`
		Result  json.RawMessage `json:"result"`
		Error   json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return null, invalidRequest("a message must be a JSON object")
	}
	id := null
	if len(m.ID) > 0 {
		switch m.ID[0] {
		case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			id = m.ID
		case 'n':
		default:
			return null, invalidRequest("id must be a number or a string")
		}
		if m.ID[0] != '"' && m.ID[0] != 'n' {
			if _, err := strconv.ParseUint(string(m.ID), 10, 63); err != nil {
				return null, invalidRequest("a numeric id must be a non-negative integer")
			}
		}
	}
	if m.JSONRPC == nil || *m.JSONRPC != "2.0" {
		return id, invalidRequest(`"jsonrpc" must be "2.0"`)
	}
	isRequest := len(m.Method) > 0
	isResponse := len(m.Result) > 0 || len(m.Error) > 0
	switch {
	case isRequest && isResponse:
		return id, invalidRequest("a message cannot have both method and result/error")
	case !isRequest && !isResponse:
		return id, invalidRequest("a message needs a method (request) or a result/error (response)")
	case isRequest && m.Method[0] != '"':
		return id, invalidRequest("method must be a string")
	case isRequest && len(m.Params) > 0 && m.Params[0] != '{' && m.Params[0] != '[' && string(m.Params) != "null":
		return id, invalidRequest("params must be an object or an array")
	}
	return id, nil
}

func parseError() *jsonrpc2.Error {
	return newError(protocol.CodeParseError, "parse error: the message body is not valid JSON",
		protocol.ErrorData{Suggestions: []protocol.Suggestion{{ID: "fix-client", Action: "Send a UTF-8 JSON object as the body of each Content-Length frame."}}})
}

func invalidRequest(reason string) *jsonrpc2.Error {
	return newError(protocol.CodeInvalidRequest, "invalid request: "+reason,
		protocol.ErrorData{Reason: reason, Suggestions: []protocol.Suggestion{{ID: "fix-client", Action: "Send JSON-RPC 2.0 request objects: {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"…\",\"params\":{…}}."}}})
}
