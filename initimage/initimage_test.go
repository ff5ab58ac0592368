package initimage

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAssembleAndRestartEnv(t *testing.T) {
	got := AssembleAndRestartEnv(BuildInput{Incremental: true, Changed: []string{"lib/a.js", "public/x y.css"}, Deleted: []string{"old.js"}, Ports: []int{8080, 8443}})
	want := []string{"ODOD_APP_PORTS=8080,8443", "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=lib/a.js\npublic/x y.css", "ODOD_PUSH_DELETED=old.js"}
	if !slices.Equal(got, want) {
		t.Errorf("incremental: %q, want %q", got, want)
	}
	// A full build gets no lists.
	if got := AssembleAndRestartEnv(BuildInput{Changed: []string{"a"}}); len(got) != 0 {
		t.Errorf("full: %q", got)
	}
	// Lists that cannot travel make it a full build.
	for name, in := range map[string]BuildInput{
		"newline": {Incremental: true, Changed: []string{"a\nb"}},
		"too long": {Incremental: true, Deleted: func() []string {
			var many []string
			for i := 0; i < 20000; i++ {
				many = append(many, fmt.Sprintf("dir/file-%05d.js", i))
			}
			return many
		}()},
	} {
		for _, kv := range AssembleAndRestartEnv(in) {
			if strings.HasPrefix(kv, EnvPushIncremental) {
				t.Errorf("%s: still incremental: %.80q", name, kv)
			}
		}
	}
}
