// Package clustertest holds the local cluster's smoke test (build tag
// integration): see smoke_test.go and docs/development.md.
package clustertest
