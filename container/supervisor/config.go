//go:build linux

// Package supervisor is odod's small process supervisor: it reads the
// subset of supervisord's configuration that odo's init image uses, keeps
// the programs running (restarting them, with supervisord's back-off and
// start-retry rules), and serves a control socket for `supervisord ctl`.
package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/ini.v1"
)

// DefaultSocketPath is where the control socket lives unless the
// configuration's [unix_http_server] file= says otherwise: on the emptyDir
// shared by the init container, so `supervisord ctl` run through exec in
// the same container finds it.
const DefaultSocketPath = "/opt/odo/supervisord.sock"

// AutoRestart is supervisord's autorestart setting.
type AutoRestart string

// The autorestart values.
const (
	RestartAlways     AutoRestart = "true"
	RestartNever      AutoRestart = "false"
	RestartUnexpected AutoRestart = "unexpected" // restart unless the exit code is in exitcodes
)

// Config is a parsed supervisor.conf.
type Config struct {
	// SocketPath is the control socket ([unix_http_server] file=).
	SocketPath string
	// Programs in file order.
	Programs []ProgramConfig
	// Warnings lists settings that were read but are not supported.
	Warnings []string
}

// ProgramConfig is one [program:NAME] section, with supervisord's defaults
// filled in.
type ProgramConfig struct {
	Name           string
	Command        []string // split like a shell would, without running one
	Directory      string
	Environment    []string      // KEY=value, added to the supervisor's environment
	AutoStart      bool          // default true
	AutoRestart    AutoRestart   // default unexpected
	ExitCodes      []int         // expected exit codes, default [0]
	MinUptime      time.Duration // startsecs: how long a start must stay up to count, default 1s
	StartRetries   int           // default 3
	StopSignal     syscall.Signal
	StopWait       time.Duration // stopwaitsecs, default 10s
	StopAsGroup    bool
	KillAsGroup    bool
	StdoutLogfile  string // "/dev/stdout" (default), "/dev/stderr", a file, or "NONE"
	StderrLogfile  string
	RedirectStderr bool
	// Standby (standby=true, odod's own setting) keeps a second process of
	// the program spawned ahead of time, waiting to take over at the next
	// restart; see Supervisor.Restart and StandbyFDEnv.
	Standby bool
}

var supportedProgramKeys = map[string]bool{
	"command": true, "directory": true, "environment": true, "autostart": true, "autorestart": true,
	"exitcodes": true, "startsecs": true, "startretries": true, "stopsignal": true, "stopwaitsecs": true,
	"stopasgroup": true, "killasgroup": true, "stdout_logfile": true, "stderr_logfile": true,
	"redirect_stderr": true, "standby": true,
	// Accepted and meaningless here (events, log rotation, priorities).
	"stdout_events_enabled": true, "stderr_events_enabled": true, "priority": true,
	"stdout_logfile_maxbytes": true, "stderr_logfile_maxbytes": true,
	"stdout_logfile_backups": true, "stderr_logfile_backups": true,
}

// LoadConfig reads and parses a supervisor.conf.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read supervisor configuration: %w", err)
	}
	abs, _ := filepath.Abs(path)
	cfg, err := ParseConfig(data, filepath.Dir(abs), os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses supervisor.conf content. here is the directory of the
// file (for %(here)s); lookupEnv resolves %(ENV_NAME)s.
func ParseConfig(data []byte, here string, lookupEnv func(string) (string, bool)) (*Config, error) {
	file, err := ini.LoadSources(ini.LoadOptions{
		SpaceBeforeInlineComment:   true, // supervisord: " ;" starts a comment, "a;b" does not
		AllowPythonMultilineValues: true,
		AllowNonUniqueSections:     true, // so that a repeated [program:x] is reported, not merged
	}, data)
	if err != nil {
		return nil, fmt.Errorf("parse supervisor configuration: %w; check the ini syntax", err)
	}
	cfg := &Config{SocketPath: DefaultSocketPath}
	seen := map[string]bool{}
	for _, section := range file.Sections() {
		name := section.Name()
		switch {
		case name == ini.DefaultSection:
			if len(section.Keys()) > 0 {
				cfg.Warnings = append(cfg.Warnings, "settings outside any section are ignored")
			}
		case name == "unix_http_server":
			if key := section.Key("file"); key.Value() != "" {
				cfg.SocketPath, err = expand(key.Value(), here, "", lookupEnv)
				if err != nil {
					return nil, fmt.Errorf("[unix_http_server] file: %w", err)
				}
			}
		case strings.HasPrefix(name, "program:"):
			prog, warnings, err := parseProgram(section, strings.TrimPrefix(name, "program:"), here, lookupEnv)
			if err != nil {
				return nil, err
			}
			if seen[prog.Name] {
				return nil, fmt.Errorf("[%s] appears twice; give each program a unique name", name)
			}
			seen[prog.Name] = true
			cfg.Programs = append(cfg.Programs, prog)
			cfg.Warnings = append(cfg.Warnings, warnings...)
		case name == "supervisord", name == "supervisorctl", name == "inet_http_server", name == "rpcinterface:supervisor":
			// Daemon, client and XML-RPC settings: the control socket
			// replaces them (odo used [inet_http_server] for ctl).
		default:
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("section [%s] is not supported and is ignored", name))
		}
	}
	return cfg, nil
}

func parseProgram(section *ini.Section, name, here string, lookupEnv func(string) (string, bool)) (ProgramConfig, []string, error) {
	fail := func(key string, err error) (ProgramConfig, []string, error) {
		return ProgramConfig{}, nil, fmt.Errorf("[program:%s] %s: %w", name, key, err)
	}
	if name == "" || strings.ContainsAny(name, " \t:/") {
		return fail("name", errors.New("a program name must be non-empty without spaces, ':' or '/'"))
	}
	p := ProgramConfig{
		Name: name, AutoStart: true, AutoRestart: RestartUnexpected, ExitCodes: []int{0},
		MinUptime: time.Second, StartRetries: 3, StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
		StdoutLogfile: "/dev/stdout", StderrLogfile: "/dev/stderr",
	}
	var warnings []string
	for _, key := range section.Keys() {
		if !supportedProgramKeys[key.Name()] {
			warnings = append(warnings, fmt.Sprintf("[program:%s] %s is not supported and is ignored", name, key.Name()))
		}
	}
	get := func(key string) (string, bool, error) {
		if !section.HasKey(key) {
			return "", false, nil
		}
		v, err := expand(strings.TrimSpace(section.Key(key).Value()), here, name, lookupEnv)
		return v, true, err
	}
	var err error
	var value string
	var ok bool

	if value, ok, err = get("command"); err != nil || !ok || value == "" {
		if err == nil {
			err = errors.New("missing; say what to run, e.g. command=/opt/odo/bin/run")
		}
		return fail("command", err)
	}
	if p.Command, err = SplitCommand(value); err != nil {
		return fail("command", err)
	}
	if p.Directory, _, err = get("directory"); err != nil {
		return fail("directory", err)
	}
	if value, ok, err = get("environment"); err != nil {
		return fail("environment", err)
	} else if ok {
		if p.Environment, err = parseEnvironment(value); err != nil {
			return fail("environment", err)
		}
	}
	for key, target := range map[string]*bool{"autostart": &p.AutoStart, "stopasgroup": &p.StopAsGroup, "killasgroup": &p.KillAsGroup, "redirect_stderr": &p.RedirectStderr, "standby": &p.Standby} {
		if value, ok, err = get(key); err != nil {
			return fail(key, err)
		} else if ok {
			if *target, err = parseBool(value); err != nil {
				return fail(key, err)
			}
		}
	}
	if value, ok, err = get("autorestart"); err != nil {
		return fail("autorestart", err)
	} else if ok {
		switch v := strings.ToLower(value); v {
		case "unexpected":
			p.AutoRestart = RestartUnexpected
		default:
			b, err := parseBool(v)
			if err != nil {
				return fail("autorestart", fmt.Errorf("%q is not true, false or unexpected", value))
			}
			p.AutoRestart = map[bool]AutoRestart{true: RestartAlways, false: RestartNever}[b]
		}
	}
	if value, ok, err = get("exitcodes"); err != nil {
		return fail("exitcodes", err)
	} else if ok {
		p.ExitCodes = nil
		for _, part := range strings.Split(value, ",") {
			code, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || code < 0 || code > 255 {
				return fail("exitcodes", fmt.Errorf("%q is not a comma-separated list of exit codes 0-255", value))
			}
			p.ExitCodes = append(p.ExitCodes, code)
		}
	}
	for key, target := range map[string]*time.Duration{"startsecs": &p.MinUptime, "stopwaitsecs": &p.StopWait} {
		if value, ok, err = get(key); err != nil {
			return fail(key, err)
		} else if ok {
			// Fractions are an extension (supervisord takes whole seconds).
			secs, err := strconv.ParseFloat(value, 64)
			if err != nil || secs < 0 || secs > 86400 {
				return fail(key, fmt.Errorf("%q is not a number of seconds", value))
			}
			*target = time.Duration(secs * float64(time.Second))
		}
	}
	if value, ok, err = get("startretries"); err != nil {
		return fail("startretries", err)
	} else if ok {
		if p.StartRetries, err = strconv.Atoi(value); err != nil || p.StartRetries < 0 {
			return fail("startretries", fmt.Errorf("%q is not a non-negative integer", value))
		}
	}
	if value, ok, err = get("stopsignal"); err != nil {
		return fail("stopsignal", err)
	} else if ok {
		if p.StopSignal, err = parseSignal(value); err != nil {
			return fail("stopsignal", err)
		}
	}
	for key, target := range map[string]*string{"stdout_logfile": &p.StdoutLogfile, "stderr_logfile": &p.StderrLogfile} {
		if value, ok, err = get(key); err != nil {
			return fail(key, err)
		} else if ok && value != "" && !strings.EqualFold(value, "AUTO") {
			*target = value
		}
	}
	return p, warnings, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

var signalNames = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
}

func parseSignal(v string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "SIG")
	if sig, ok := signalNames[name]; ok {
		return sig, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	return 0, fmt.Errorf("%q is not a signal name such as TERM, INT or QUIT", v)
}

var expansion = regexp.MustCompile(`%%|%\(([A-Za-z0-9_]+)\)s`)

// expand resolves supervisord's %(ENV_X)s, %(here)s and %(program_name)s,
// and %% to %.
func expand(v, here, program string, lookupEnv func(string) (string, bool)) (string, error) {
	var missing []string
	out := expansion.ReplaceAllStringFunc(v, func(m string) string {
		if m == "%%" {
			return "%"
		}
		name := expansion.FindStringSubmatch(m)[1]
		switch {
		case name == "here":
			return here
		case name == "program_name" && program != "":
			return program
		case strings.HasPrefix(name, "ENV_"):
			if value, ok := lookupEnv(strings.TrimPrefix(name, "ENV_")); ok {
				return value
			}
		}
		missing = append(missing, m)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("cannot expand %s: set the environment variable or remove the reference", strings.Join(missing, ", "))
	}
	return out, nil
}

// SplitCommand splits a command line the way supervisord (Python's
// shlex) does: whitespace separates words, single and double quotes group,
// backslash escapes outside single quotes. No shell is involved.
func SplitCommand(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote or escape in %q", s)
	}
	if inWord {
		words = append(words, word.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}

// parseEnvironment parses KEY="value",KEY2=value2 (supervisord's format).
func parseEnvironment(s string) ([]string, error) {
	var env []string
	var part strings.Builder
	var quote rune
	flush := func() error {
		item := strings.TrimSpace(part.String())
		part.Reset()
		if item == "" {
			return nil
		}
		key, value, ok := strings.Cut(item, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
			return fmt.Errorf("%q is not KEY=value", item)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		env = append(env, key+"="+value)
		return nil
	}
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
			part.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
			part.WriteRune(r)
		case r == ',':
			if err := flush(); err != nil {
				return nil, err
			}
		default:
			part.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return env, nil
}
