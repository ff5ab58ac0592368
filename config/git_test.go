package config

import (
	"errors"
	"strings"
	"testing"
)

func gitConfig(mod func(s *ComponentSettings)) *LocalConfig {
	c := New("web", "nodejs")
	c.ComponentSettings.SourceType = Git
	c.ComponentSettings.SourceLocation = "https://example.com/org/repo.git"
	mod(&c.ComponentSettings)
	return c
}

func TestValidateGitComponent(t *testing.T) {
	ok := []func(s *ComponentSettings){
		func(s *ComponentSettings) {},
		func(s *ComponentSettings) { s.Ref = "v1.2.0" },
		func(s *ComponentSettings) { s.Ref = "feature/x"; s.ContextDir = "services/web" },
		func(s *ComponentSettings) {
			s.SourceLocation = "http://10.213.0.1:8123/repo.git"
			s.Registry = "127.0.0.1:5000/odod"
		},
		func(s *ComponentSettings) { s.SourceLocation = "git://example.com/repo"; s.Registry = "quay.io/me" },
	}
	for i, mod := range ok {
		if err := gitConfig(mod).Validate(); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
	bad := []struct {
		mod   func(s *ComponentSettings)
		field string
		want  string
	}{
		{func(s *ComponentSettings) { s.SourceLocation = "" }, "SourceLocation", "is empty"},
		{func(s *ComponentSettings) { s.SourceLocation = "git@github.com:org/repo.git" }, "SourceLocation", "SSH address"},
		{func(s *ComponentSettings) { s.SourceLocation = "ssh://git@github.com/org/repo.git" }, "SourceLocation", "SSH URL"},
		{func(s *ComponentSettings) { s.SourceLocation = "ftp://example.com/repo" }, "SourceLocation", "scheme ftp"},
		{func(s *ComponentSettings) { s.SourceLocation = "./repo" }, "SourceLocation", "not a URL"},
		{func(s *ComponentSettings) { s.Ref = "a..b" }, "Ref", "not a git ref"},
		{func(s *ComponentSettings) { s.Ref = "-x" }, "Ref", "starts with '-'"},
		{func(s *ComponentSettings) { s.Ref = "has space" }, "Ref", "not a git ref"},
		{func(s *ComponentSettings) { s.ContextDir = "/abs" }, "ContextDir", "absolute"},
		{func(s *ComponentSettings) { s.ContextDir = "a/../../x" }, "ContextDir", "leaves the repository"},
		{func(s *ComponentSettings) { s.ContextDir = `a\b` }, "ContextDir", "'\\'"},
		{func(s *ComponentSettings) { s.Registry = "http://127.0.0.1:5000" }, "Registry", "has a scheme"},
		{func(s *ComponentSettings) { s.Registry = "Quay.io/Me" }, "Registry", "not a registry"},
		{func(s *ComponentSettings) { s.Registry = "me" }, "Registry", "registry host"},
		{func(s *ComponentSettings) { s.SourceType = Local; s.SourceLocation = "./" }, "ContextDir", "not a git component"},
	}
	for i, tc := range bad {
		c := gitConfig(tc.mod)
		if tc.field == "ContextDir" && c.ComponentSettings.ContextDir == "" {
			c.ComponentSettings.ContextDir = "x"
		}
		err := c.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("case %d: %v, want a ValidationError", i, err)
			continue
		}
		found := false
		for _, p := range ve.Problems {
			if p.Field == "ComponentSettings."+tc.field && strings.Contains(p.Message, tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("case %d: %v, want %s: …%s…", i, err, tc.field, tc.want)
		}
	}
}

func TestSetBuildParameters(t *testing.T) {
	c := gitConfig(func(s *ComponentSettings) {})
	if err := c.Set("registry", "127.0.0.1:5000/dev"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("ContextDir", "web"); err != nil {
		t.Fatal(err)
	}
	if s := c.ComponentSettings; s.Registry != "127.0.0.1:5000/dev" || s.ContextDir != "web" {
		t.Fatalf("%+v", s)
	}
	if err := c.Set("Registry", "http://x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "has a scheme") {
		t.Fatalf("a registry with a scheme validated: %v", err)
	}
}
