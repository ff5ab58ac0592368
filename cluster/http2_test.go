package cluster

import (
	"os"
	"testing"
)

func TestShortenHTTP2HealthCheckKeepsTheUsersSetting(t *testing.T) {
	t.Setenv(http2ReadIdleEnv, "")
	os.Unsetenv(http2ReadIdleEnv)
	t.Setenv(http2PingTimeoutEnv, "7")
	ShortenHTTP2HealthCheck()
	if got := os.Getenv(http2ReadIdleEnv); got != http2ReadIdle {
		t.Errorf("%s = %q, want odod's %s", http2ReadIdleEnv, got, http2ReadIdle)
	}
	if got := os.Getenv(http2PingTimeoutEnv); got != "7" {
		t.Errorf("%s = %q, want the user's 7", http2PingTimeoutEnv, got)
	}
}
