// Command gen writes protocol/metaModel.json and the files made from it
// (docs/protocol-reference.md, the generated tables of docs/protocol.md,
// the TypeScript and Java bindings). Run it with go generate ./protocol.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/odod-dev/odod/protocol/internal/metamodel"
)

func main() {
	root := flag.String("root", "..", "the repository's root")
	flag.Parse()
	files, err := metamodel.Generate(*root)
	if err == nil {
		err = metamodel.Write(*root, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
