package scripts

import "strings"

// The languages that have scripts under language-scripts/.
const (
	LanguageNodeJS = "nodejs"
	LanguageJava   = "java"
)

// Language maps a builder image's name label (ODO_S2I_BUILDER_IMG) to its
// language-scripts directory, as odo's image-mappings.json did; an
// explicit override (ODO_S2I_LANGUAGE) wins. "" means: the builder's own
// scripts, and no debugger odod knows of. `odod-init getlanguage` answers
// with it in the container, and the host with it which debugger attaches.
func Language(builderImage, override string) string {
	if override = strings.TrimSpace(strings.ToLower(override)); override != "" {
		return override
	}
	name := strings.ToLower(builderImage)
	switch {
	case strings.Contains(name, "nodejs"):
		return LanguageNodeJS
	case strings.Contains(name, "openjdk"), strings.Contains(name, "java"):
		return LanguageJava
	}
	return ""
}
