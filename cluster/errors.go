package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Kind classifies a cluster error so that the daemon can map it to a
// protocol error code without parsing messages.
type Kind string

// Error kinds.
const (
	// KindNoConfig: no usable kubeconfig (missing, empty, unknown context).
	KindNoConfig Kind = "NoConfig"
	// KindUnreachable: the API server did not answer.
	KindUnreachable Kind = "Unreachable"
	// KindUnauthorized: the API server refused the credentials (401) or
	// the user may not do this (403).
	KindUnauthorized Kind = "Unauthorized"
	// KindNotFound: a named object (URL, storage, builder type, image)
	// does not exist.
	KindNotFound Kind = "NotFound"
	// KindInvalid: the component's settings cannot become objects.
	KindInvalid Kind = "Invalid"
	// KindImage: the builder image could not be read.
	KindImage Kind = "Image"
	// KindPodNotReady: the component's pod did not start; Reason holds
	// the cluster's reason (ImagePullBackOff, CrashLoopBackOff, …).
	KindPodNotReady Kind = "PodNotReady"
	// KindTimeout: a bounded wait (deletion, pod) ran out.
	KindTimeout Kind = "Timeout"
	// KindConflict: the object already exists, or is being deleted.
	KindConflict Kind = "Conflict"
	// KindUntrustedCertificate: the server's TLS certificate is signed
	// by no authority the kubeconfig or the system trusts.
	KindUntrustedCertificate Kind = "UntrustedCertificate"
	// KindLoginUnsupported: the cluster cannot log in that way (a
	// password where there is no OAuth server).
	KindLoginUnsupported Kind = "LoginUnsupported"
	// KindNotLoggedIn: the context has no token to log out.
	KindNotLoggedIn Kind = "NotLoggedIn"
	// KindAPI: any other API error.
	KindAPI Kind = "API"
)

// Sentinels for errors.Is: errors.Is(err, cluster.ErrUnreachable) is true
// for every *Error of that kind.
var (
	ErrNoConfig     = errors.New("no usable kubeconfig")
	ErrUnreachable  = errors.New("cluster unreachable")
	ErrUnauthorized = errors.New("cluster refused the credentials")
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid component")
	ErrImage        = errors.New("builder image unreadable")
	ErrPodNotReady  = errors.New("component pod not ready")
	ErrTimeout      = errors.New("timed out")
	ErrConflict     = errors.New("conflict")
	// ErrUntrustedCertificate, ErrLoginUnsupported and ErrNotLoggedIn
	// are the login kinds' sentinels.
	ErrUntrustedCertificate = errors.New("untrusted server certificate")
	ErrLoginUnsupported     = errors.New("login method unsupported")
	ErrNotLoggedIn          = errors.New("not logged in")
)

var sentinels = map[Kind]error{
	KindNoConfig:     ErrNoConfig,
	KindUnreachable:  ErrUnreachable,
	KindUnauthorized: ErrUnauthorized,
	KindNotFound:     ErrNotFound,
	KindInvalid:      ErrInvalid,
	KindImage:        ErrImage,
	KindPodNotReady:  ErrPodNotReady,
	KindTimeout:      ErrTimeout,
	KindConflict:     ErrConflict,

	KindUntrustedCertificate: ErrUntrustedCertificate,
	KindLoginUnsupported:     ErrLoginUnsupported,
	KindNotLoggedIn:          ErrNotLoggedIn,
}

// Error is every error this package returns for a cluster condition.
type Error struct {
	Kind Kind
	// Reason is the cluster's own reason when there is one
	// ("ImagePullBackOff", "FailedScheduling", "Unauthorized").
	Reason string
	// Message says what happened.
	Message string
	// Suggestion says what the user can do.
	Suggestion string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Suggestion != "" {
		msg += ": " + e.Suggestion
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the kind's sentinel.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Kind]
	return ok && s == target
}

// KindOf returns the Kind of the first *Error in err's chain, or "".
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return ""
}

// classify turns an error from an API call into an *Error with a
// suggestion; what says what was being done ("list pods").
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	switch {
	case apierrors.IsUnauthorized(err):
		return &Error{Kind: KindUnauthorized, Reason: "Unauthorized", Message: what + ": the cluster refused the credentials", Err: err,
			Suggestion: "log in again (oc login, or refresh the kubeconfig's token or certificate) and retry"}
	case apierrors.IsForbidden(err):
		return &Error{Kind: KindUnauthorized, Reason: "Forbidden", Message: what + ": not allowed", Err: err,
			Suggestion: "ask the cluster administrator for access to the namespace, or choose a namespace you own (--project)"}
	case apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err):
		return &Error{Kind: KindConflict, Reason: string(apierrors.ReasonForError(err)), Message: what + ": it already exists or is being changed", Err: err,
			Suggestion: "choose another name, or wait for the object being deleted to be gone and retry"}
	case apierrors.IsNotFound(err):
		return &Error{Kind: KindNotFound, Reason: "NotFound", Message: what, Err: err}
	case isUntrusted(err):
		return &Error{Kind: KindUntrustedCertificate, Reason: "UntrustedCertificate", Message: what + ": the server's certificate is not trusted", Err: err,
			Suggestion: "give the cluster's certificate authority (the kubeconfig's certificate-authority), or accept it with --insecure-skip-tls-verify if you trust this server"}
	case isUnreachable(err):
		return &Error{Kind: KindUnreachable, Message: what + ": the cluster did not answer", Err: err,
			Suggestion: "check that the cluster is running and that the kubeconfig's server address is right (kubectl cluster-info)"}
	}
	return &Error{Kind: KindAPI, Message: what, Err: err, Suggestion: "retry; if it persists run odod with --log-level=debug"}
}

// isUntrusted is true for a TLS handshake that failed on the server's
// certificate (unknown authority, wrong host name, expired).
func isUntrusted(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

func isUnreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return true
	}
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err)
}

func notFound(format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...)}
}
