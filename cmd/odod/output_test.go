package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/odod-dev/odod/protocol"
)

func TestPushOutputSpeaksEnglish(t *testing.T) {
	for _, tc := range []struct {
		files int
		want  string
	}{
		{0, "Syncing 0 files (10 B)\n"},
		{1, "Syncing 1 file (10 B)\n"},
		{3, "Syncing 3 files (10 B)\n"},
	} {
		var errOut bytes.Buffer
		bar := newProgressBar(stdio{err: &errOut})
		bar.update(protocol.PushProgressParams{Phase: protocol.PhaseUpload, FilesTotal: tc.files, BytesTotal: 10})
		if errOut.String() != tc.want {
			t.Errorf("%d files: %q, want %q", tc.files, errOut.String(), tc.want)
		}
	}

	code := 0
	for _, tc := range []struct {
		res  protocol.PushResult
		want string
	}{
		{protocol.PushResult{FilesCopied: 1, Bytes: 5, Pod: "web-1", Transport: "agent", BuildExitCode: &code}, "Pushed 1 file (5 B), deleted 0, to web-1 via agent in 0 ms\n"},
		{protocol.PushResult{FilesCopied: 2, Bytes: 5, Pod: "web-1", Transport: "agent", BuildExitCode: &code}, "Pushed 2 files (5 B), deleted 0, to web-1 via agent in 0 ms\n"},
		{protocol.PushResult{FilesCopied: 1, Operations: []protocol.Operation{{Op: "put", Path: "a.js"}}}, "put     a.js\nDry run: 1 file (0 B) to copy, 0 to delete\n"},
	} {
		var out bytes.Buffer
		printPushResult(stdio{out: &out}, tc.res, "")
		if out.String() != tc.want {
			t.Errorf("result %+v printed %q, want %q", tc.res, out.String(), tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	got := strings.Join([]string{count(0, "file", "files"), count(1, "directory", "directories"), count(2, "file", "files")}, ", ")
	if got != "0 files, 1 directory, 2 files" {
		t.Fatalf("count: %q", got)
	}
}

func TestPushStateLines(t *testing.T) {
	var errOut bytes.Buffer
	streams := stdio{out: &bytes.Buffer{}, err: &errOut}
	hooks := pushHooks(streams, newProgressBar(streams), false)
	hooks.State(protocol.StateAbsent, protocol.StateStarting, "PodInitializing", "")
	hooks.State(protocol.StateStarting, protocol.StateStarting, "ContainerCreating", "pulling the image")
	want := "Starting: PodInitializing\nStarting: ContainerCreating pulling the image\n"
	if errOut.String() != want {
		t.Fatalf("state lines %q, want %q", errOut.String(), want)
	}
}
