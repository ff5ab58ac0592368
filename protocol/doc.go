// Package protocol holds every JSON-RPC method name, parameter, result and
// notification type odod speaks, and its error codes. It is types only: the
// daemon package implements the methods, editors' plugins can read this
// package (and docs/protocol.md, which a test keeps in step with it) as the
// contract.
//
// Transport: JSON-RPC 2.0 over stdio with LSP base-protocol framing
// ("Content-Length: N\r\n\r\n" then N bytes of UTF-8 JSON).
package protocol

//go:generate go run ./internal/gen -root ..
