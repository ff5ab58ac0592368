//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// languageFor maps a builder image's name label (ODO_S2I_BUILDER_IMG) to
// the language-scripts directory, as odo's image-mappings.json does; an
// explicit ODO_S2I_LANGUAGE wins. "" means: use the builder's own scripts.
func languageFor(builderImage, override string) string {
	if override = strings.TrimSpace(strings.ToLower(override)); override != "" {
		return override
	}
	name := strings.ToLower(builderImage)
	switch {
	case strings.Contains(name, "nodejs"):
		return "nodejs"
	case strings.Contains(name, "openjdk"), strings.Contains(name, "java"):
		return "java"
	}
	return ""
}

func runGetLanguage(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, languageFor(os.Getenv("ODO_S2I_BUILDER_IMG"), os.Getenv("ODO_S2I_LANGUAGE")))
	return 0
}
