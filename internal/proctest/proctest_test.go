package proctest

import (
	"os"
	"os/exec"
	"testing"
)

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Wait()
	if Alive(pid) {
		t.Fatalf("reaped process %d is alive", pid)
	}
}

func TestZombieIsNotAlive(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// Not reaped yet: a zombie once it exits.
	for i := 0; i < 1000 && Alive(cmd.Process.Pid); i++ {
		_ = exec.Command("sleep", "0.005").Run()
	}
	if Alive(cmd.Process.Pid) {
		t.Fatal("an exited, unreaped process counts as alive")
	}
}
