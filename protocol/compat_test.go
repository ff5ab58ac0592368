package protocol_test

import (
	"os"
	"testing"

	"github.com/odod-dev/odod/protocol/internal/metamodel"
)

// TestCompatibleWithRelease holds the protocol to docs/protocol.md's
// compatibility rules against the last release's description: a client
// written for 0.1.0 must work with this odod, unless the major version
// went up.
func TestCompatibleWithRelease(t *testing.T) {
	raw, err := os.ReadFile("testdata/metaModel-0.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	release, err := metamodel.Read(raw)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := metamodel.Build(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range metamodel.Incompatibilities(release, cur) {
		t.Errorf("incompatible with %s: %s (keep the old name and add a new one, or raise the major version of protocol.ProtocolVersion)", release.MetaData.Version, p)
	}
}
