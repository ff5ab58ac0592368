package indexer

import (
	"fmt"
	"unicode/utf8"
)

// validName reports whether a path can be indexed: JSON (the persisted
// index, the editor protocol, the agent's messages) carries only UTF-8, and
// would turn distinct invalid names (a\xffb, a\xfeb) into one (a\uFFFDb).
func validName(rel string) bool { return utf8.ValidString(rel) }

// badNameWarning is what the user is told, once, about such a path.
func badNameWarning(rel string) string {
	return fmt.Sprintf("odod does not index or push %q (and anything under it): its name is not valid UTF-8, which odod's index and protocol cannot carry. Rename it to sync it.", rel)
}
