package daemon

import (
	"errors"

	"golang.org/x/sys/windows"
)

// processAlive reports whether pid is still running. A process handle
// stays valid after the process exits, so opening it is not enough: a
// zero-timeout wait tells whether it has exited.
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		// Access denied: it exists, it is someone else's. Otherwise (an
		// invalid parameter) there is no such process.
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	event, err := windows.WaitForSingleObject(h, 0)
	if err != nil {
		return true // cannot tell; exiting on a guess would drop the editor's session
	}
	return event == uint32(windows.WAIT_TIMEOUT)
}
