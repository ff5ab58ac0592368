package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/odod-dev/odod/internal/lockedbuf"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/odod-dev/odod/protocol"
)

func frame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

// heldOpen is an input that never ends until ctx does, as an editor's pipe.
type heldOpen struct{ ctx context.Context }

func (h heldOpen) Read([]byte) (int, error) {
	<-h.ctx.Done()
	return 0, io.EOF
}

// serveRaw runs a server on the given input bytes and returns what it
// wrote, its exit code and its log. With hold, the input stays open after
// the bytes, so the server stops only on exit or a framing error.
func serveRaw(t *testing.T, input string, hold bool) ([]map[string]any, int, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	srv := New(Options{Logger: zap.New(core)})
	var lb lockedbuf.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var in io.Reader = strings.NewReader(input)
	if hold {
		in = io.MultiReader(in, heldOpen{ctx})
	}
	code := srv.Serve(ctx, in, &lb)
	out := bytes.NewBuffer(lb.Bytes())
	var msgs []map[string]any
	r := bufio.NewReader(out)
	for {
		body, err := readFrame(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("server wrote a bad frame: %v (output %q)", err, out.String())
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("server wrote bad JSON %q: %v", body, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, code, logs
}

// responses returns the responses (not notifications) in order.
func responses(msgs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range msgs {
		if _, isNotif := m["method"]; !isNotif {
			out = append(out, m)
		}
	}
	return out
}

func errCode(m map[string]any) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	return int(e["code"].(float64))
}

func TestMalformedMessagesAreAnsweredAndTheConnectionGoesOn(t *testing.T) {
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`
	input := frame(init) +
		frame(`{"jsonrpc":"2.0","id":2,"method":`) + // truncated JSON
		frame(`[{"jsonrpc":"2.0","id":3,"method":"odod/status"}]`) + // batch
		frame(`{"jsonrpc":"1.0","id":4,"method":"odod/status"}`) + // wrong version
		frame(`{"jsonrpc":"2.0","id":5,"method":7}`) + // method not a string
		frame(`{"jsonrpc":"2.0","id":{"x":1},"method":"odod/status"}`) + // id an object
		frame(`{"jsonrpc":"2.0","id":6,"method":"odod/status","params":3}`) + // params a number
		frame(`"just a string"`) +
		frame(`{"jsonrpc":"2.0","id":7,"method":"shutdown"}`) +
		frame(`{"jsonrpc":"2.0","method":"exit"}`)
	msgs, code, _ := serveRaw(t, input, true)
	// Responses may come in any order (JSON-RPC does not order them):
	// the stream answers malformed messages at once.
	byID := map[float64]int{}
	nullIDCodes := map[int]int{}
	for _, m := range responses(msgs) {
		if id, ok := m["id"].(float64); ok {
			byID[id] = errCode(m)
		} else {
			nullIDCodes[errCode(m)]++
		}
		if errCode(m) != 0 {
			data := m["error"].(map[string]any)["data"].(map[string]any)
			if s, _ := data["suggestions"].([]any); len(s) == 0 {
				t.Errorf("response %v has no suggestions", m)
			}
		}
	}
	wantByID := map[float64]int{1: 0, 4: -32600, 5: -32600, 6: -32600, 7: 0}
	for id, c := range wantByID {
		if got, ok := byID[id]; !ok || got != c {
			t.Errorf("id %v: code %d (answered %v), want %d", id, got, ok, c)
		}
	}
	if len(byID) != len(wantByID) {
		t.Errorf("answered ids %v, want %v", byID, wantByID)
	}
	if nullIDCodes[-32700] != 1 || nullIDCodes[-32600] != 3 || len(nullIDCodes) != 2 {
		t.Errorf("null-id errors by code = %v, want one -32700 and three -32600", nullIDCodes)
	}
	if code != 0 {
		t.Fatalf("exit code %d after shutdown and exit, want 0", code)
	}
}

// exitFrames end a session cleanly.
var exitFrames = frame(`{"jsonrpc":"2.0","id":99,"method":"shutdown"}`) + frame(`{"jsonrpc":"2.0","method":"exit"}`)

func TestShutdownAndExitJustBeforeEndOfInputCount(t *testing.T) {
	input := frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`) + exitFrames
	if _, code, _ := serveRaw(t, input, false); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
}

func TestBadFramesEndTheConnectionCleanly(t *testing.T) {
	cases := map[string]string{
		"no length":         "Content-Type: application/json\r\n\r\n{}",
		"absurd length":     "Content-Length: 99999999999\r\n\r\n{}",
		"negative length":   "Content-Length: -5\r\n\r\n",
		"not a number":      "Content-Length: ten\r\n\r\n",
		"bare newline":      "Content-Length: 2\n\n{}",
		"no colon":          "Garbage\r\n\r\n",
		"short body":        "Content-Length: 100\r\n\r\n{}",
		"header never ends": "Content-Length: 2\r\n",
		"huge header":       strings.Repeat("X-Pad: "+strings.Repeat("a", 100)+"\r\n", 200),
	}
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			msgs, code, logs := serveRaw(t, input, false)
			if len(responses(msgs)) != 0 {
				t.Fatalf("answered a broken frame: %v", msgs)
			}
			if code != 1 {
				t.Fatalf("exit code %d, want 1 (no shutdown)", code)
			}
			if logs.FilterMessage("closing connection: malformed frame").Len() != 1 {
				t.Fatalf("no log line for the malformed frame: %v", logs.All())
			}
		})
	}
}

func TestFrameHeadersAreCaseInsensitiveAndContentTypeAllowed(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`
	input := fmt.Sprintf("content-length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n%s", len(body), body) + exitFrames
	msgs, _, _ := serveRaw(t, input, true)
	res := responses(msgs)
	if len(res) != 2 || errCode(res[0]) != 0 {
		t.Fatalf("responses = %v", res)
	}
	if res[0]["result"].(map[string]any)["serverInfo"].(map[string]any)["name"] != "odod" {
		t.Fatalf("initialize result = %v", res[0])
	}
}

func TestStdoutCarriesOnlyFrames(t *testing.T) {
	// Everything the server writes must parse as frames: serveRaw fails
	// the test otherwise. Drive every code path that logs.
	input := frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"initializationOptions":{"logLevel":"debug"}}}`) +
		frame(`{"jsonrpc":"2.0","id":2,"method":"nope"}`) +
		frame(`{bad`) +
		frame(`{"jsonrpc":"2.0","id":3,"method":"odod/workspace/open","params":{"uri":"file:///nonexistent"}}`) + exitFrames
	msgs, _, _ := serveRaw(t, input, true)
	if len(responses(msgs)) != 5 {
		t.Fatalf("responses = %v", responses(msgs))
	}
}

func TestInvalidLogLevelIsInvalidParams(t *testing.T) {
	msgs, _, _ := serveRaw(t, frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"initializationOptions":{"logLevel":"loud"}}}`)+exitFrames, true)
	res := responses(msgs)
	if len(res) != 2 || errCode(res[0]) != protocol.CodeInvalidParams {
		t.Fatalf("responses = %v", res)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte(frame(`{"jsonrpc":"2.0","id":1,"method":"x"}`)))
	f.Add([]byte("Content-Length: 3\r\n\r\n{}}Content-Length: 0\r\n\r\n"))
	f.Add([]byte("Content-Length: 99999999999999999999\r\n\r\n"))
	f.Add([]byte("content-length:2\r\ncontent-type: x\r\n\r\n[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		total := 0
		for {
			body, err := readFrame(r)
			if err != nil {
				var fe *FrameError
				if !errors.Is(err, io.EOF) && !errors.As(err, &fe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			total += len(body)
			if total > len(data) {
				t.Fatalf("read %d body bytes from %d input bytes", total, len(data))
			}
		}
	})
}

func FuzzCheckMessage(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`,
		`{"jsonrpc":"2.0","id":"a","result":null}`,
		`[1,2]`, `{`, `null`, `{"jsonrpc":"2.0","id":-1,"method":"x"}`, `{"jsonrpc":"2.0","id":1.5,"method":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, rpcErr := checkMessage(body)
		if rpcErr == nil {
			// What passes the check must be accepted by jsonrpc2.
			var m struct {
				Method *string `json:"method"`
			}
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("checked message does not decode: %v", err)
			}
			return
		}
		if !json.Valid(id) {
			t.Fatalf("error id %q is not JSON", id)
		}
		if rpcErr.Code != protocol.CodeParseError && rpcErr.Code != protocol.CodeInvalidRequest {
			t.Fatalf("code %d", rpcErr.Code)
		}
	})
}

func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{
		`{"uri":"file:///tmp"}`, `{"uri":1}`, `{"workspaceId":["x"]}`, `[]`, `null`, `{"durationMs":"x"}`,
		`{"processId":1,"capabilities":{"window":{"workDoneProgress":"yes"}}}`,
		`{"changes":[{"uri":"file:///a","type":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return // the stream answers -32700 before params are decoded
		}
		raw := json.RawMessage(data)
		targets := []any{
			&protocol.InitializeParams{}, &protocol.WorkspaceOpenParams{}, &protocol.WorkspaceCloseParams{},
			&protocol.DebugSleepParams{}, &protocol.DidChangeWatchedFilesParams{}, &protocol.CancelParams{},
		}
		for _, v := range targets {
			if err := decodeParams(&raw, v); err != nil {
				if err.Code != protocol.CodeInvalidParams || err.Data == nil {
					t.Fatalf("decode error %+v", err)
				}
			}
		}
	})
}
