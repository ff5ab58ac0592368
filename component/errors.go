package component

import (
	"context"
	"errors"
	"fmt"

	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// Error is a failure the user sees: a protocol error code, what happened,
// and what to do.
type Error struct {
	Code       int64
	Reason     string // a short machine-readable reason, e.g. ImagePullBackOff
	Message    string
	Suggestion string
	Err        error
}

func (e *Error) Error() string {
	if e.Suggestion == "" {
		return e.Message
	}
	return e.Message + ": " + e.Suggestion
}

func (e *Error) Unwrap() error { return e.Err }

// Coded classifies any error of the engine into an *Error with a code: the
// daemon answers with it, the CLI prints it.
func Coded(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: protocol.CodeRequestCancelled, Reason: "Cancelled", Message: "cancelled", Err: err}
	}
	var nf *config.NotFoundError
	if errors.As(err, &nf) || errors.Is(err, config.ErrNotFound) {
		return &Error{Code: protocol.CodeComponentNotConfigured, Reason: "NotConfigured", Message: err.Error(),
			Suggestion: "create the component first: odod create nodejs (or odod/component/create)", Err: err}
	}
	var pe *config.ParseError
	var ve *config.ValidationError
	if errors.As(err, &pe) || errors.As(err, &ve) {
		return &Error{Code: protocol.CodeInvalidConfig, Reason: "InvalidConfig", Message: err.Error(), Suggestion: "fix .odo/config.yaml", Err: err}
	}
	if errors.Is(err, agent.ErrIncompatibleAgent) {
		return &Error{Code: protocol.CodeAgentIncompatible, Reason: "AgentIncompatible", Message: err.Error(), Err: err}
	}
	if errors.Is(err, odsync.ErrTarMissing) {
		return &Error{Code: protocol.CodeTarMissing, Reason: "TarMissing", Message: err.Error(),
			Suggestion: "delete the component and push again so that odod's init image provides its agent", Err: err}
	}
	var ce *cluster.Error
	if errors.As(err, &ce) {
		out := &Error{Reason: string(ce.Kind), Message: ce.Error(), Suggestion: ce.Suggestion, Err: err}
		if ce.Reason != "" {
			out.Reason = ce.Reason
		}
		switch ce.Kind {
		case cluster.KindUnreachable, cluster.KindNoConfig:
			out.Code = protocol.CodeClusterUnreachable
		case cluster.KindUnauthorized:
			out.Code = protocol.CodeUnauthorized
		case cluster.KindNotFound:
			out.Code = protocol.CodeNotFound
		case cluster.KindConflict:
			out.Code = protocol.CodeConflict
		case cluster.KindInvalid:
			out.Code = protocol.CodeInvalidConfig
		case cluster.KindUntrustedCertificate:
			out.Code = protocol.CodeUntrustedCertificate
		case cluster.KindLoginUnsupported:
			out.Code = protocol.CodeLoginUnsupported
		case cluster.KindNotLoggedIn:
			out.Code = protocol.CodeUnauthorized
		case cluster.KindPodNotReady, cluster.KindTimeout, cluster.KindImage:
			out.Code = protocol.CodeContainerNotReady
		default:
			out.Code = protocol.CodeRequestFailed
		}
		return out
	}
	return &Error{Code: protocol.CodeRequestFailed, Reason: "Failed", Message: err.Error(), Err: err}
}

func syncFailed(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	// Not allowed to exec: that does not pass by itself (no retry) and
	// the message names the permission the cluster refused.
	var ce *cluster.Error
	if errors.As(err, &ce) && ce.Kind == cluster.KindUnauthorized {
		return &Error{Code: protocol.CodeUnauthorized, Reason: "Forbidden", Message: fmt.Sprintf("copying files into the container failed: %v", err),
			Suggestion: ce.Suggestion, Err: err}
	}
	return &Error{Code: protocol.CodeSyncFailed, Reason: "SyncFailed", Message: fmt.Sprintf("copying files into the container failed: %v", err),
		Suggestion: "push again: only what was not confirmed is sent; if it keeps failing, check the pod with odod describe", Err: err}
}
