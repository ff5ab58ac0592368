package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/protocol"
)

// newError builds the *jsonrpc2.Error every failure is answered with: a
// real code, a message, and data with suggestions (never a bare error,
// which jsonrpc2 would send with code 0).
func newError(code int64, message string, data protocol.ErrorData) *jsonrpc2.Error {
	if data.Suggestions == nil {
		data.Suggestions = []protocol.Suggestion{}
	}
	e := &jsonrpc2.Error{Code: code, Message: message}
	e.SetError(data)
	return e
}

// Errorf builds an odod error with one suggestion.
func Errorf(code int64, suggestionID, action, format string, args ...any) *jsonrpc2.Error {
	return newError(code, fmt.Sprintf(format, args...), protocol.ErrorData{
		Suggestions: []protocol.Suggestion{{ID: suggestionID, Action: action}},
	})
}

func invalidParams(field, reason, action string) *jsonrpc2.Error {
	return newError(protocol.CodeInvalidParams, fmt.Sprintf("invalid params: %s: %s", field, reason), protocol.ErrorData{
		Field:       field,
		Reason:      reason,
		Suggestions: []protocol.Suggestion{{ID: "fix-params", Action: action}},
	})
}

func methodNotFound(method string) *jsonrpc2.Error {
	return newError(protocol.CodeMethodNotFound, fmt.Sprintf("method not found: %q", method), protocol.ErrorData{
		Suggestions: []protocol.Suggestion{{ID: "check-capabilities", Action: "Read capabilities.experimental.methods in the initialize result for the methods this odod answers; update odod if the plugin needs a newer one."}},
	})
}

func notInitialized() *jsonrpc2.Error {
	return newError(protocol.CodeServerNotInitialized, "server not initialized", protocol.ErrorData{
		Suggestions: []protocol.Suggestion{{ID: "send-initialize", Action: "Send initialize first and wait for its answer."}},
	})
}

func cancelled() *jsonrpc2.Error {
	return newError(protocol.CodeRequestCancelled, "request cancelled", protocol.ErrorData{})
}

func shuttingDown() *jsonrpc2.Error {
	return newError(protocol.CodeInvalidRequest, "server is shutting down: only exit is accepted after shutdown", protocol.ErrorData{
		Suggestions: []protocol.Suggestion{{ID: "restart-server", Action: "Send exit and start a new odod."}},
	})
}

// toRPCError turns any handler error into a *jsonrpc2.Error: coded errors
// pass through, cancellation becomes -32800, anything else -32603.
func toRPCError(err error) *jsonrpc2.Error {
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		return rpcErr
	}
	// A context ended by $/cancelRequest or by the progress token's
	// window/workDoneProgress/cancel: both are the client's cancellation.
	if errors.Is(err, context.Canceled) {
		return cancelled()
	}
	return newError(protocol.CodeInternalError, "internal error: "+err.Error(), protocol.ErrorData{
		Suggestions: []protocol.Suggestion{{ID: "report-bug", Action: "Run odod with --log-level=debug and report the log: this is a bug in odod."}},
	})
}
