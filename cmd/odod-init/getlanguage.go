//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/odod-dev/odod/container/scripts"
)

// languageFor is scripts.Language: the language-scripts directory of a
// builder image's name label, or "" for the builder's own scripts.
func languageFor(builderImage, override string) string {
	return scripts.Language(builderImage, override)
}

func runGetLanguage(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, languageFor(os.Getenv("ODO_S2I_BUILDER_IMG"), os.Getenv("ODO_S2I_LANGUAGE")))
	return 0
}
