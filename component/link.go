package component

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// Link links the component to another component of its application, or
// to a Service of its namespace that is not a component, as odo link did:
// the target's host and port (odo's COMPONENT_<NAME>_HOST and _PORT, from
// the target's per-port Secret, or a Secret this component makes for a
// Service) reach the app container as env vars. The link is kept in the
// settings, so every push applies it again. When the component is on the
// cluster, its objects are applied at once and Link returns when the pod
// rolled with the new environment; otherwise the next push applies it.
// port 0 is the target's only port.
func (s *Settings) Link(ctx context.Context, to string, port int) (protocol.LinkResult, error) {
	cfg, cl, err := s.connected(ctx)
	if err != nil {
		return protocol.LinkResult{}, err
	}
	if to == cfg.ComponentSettings.Name {
		return protocol.LinkResult{}, &Error{Code: protocol.CodeInvalidParams, Reason: "LinkToSelf",
			Message: fmt.Sprintf("component %s cannot link to itself", to), Suggestion: "name another component or a Service"}
	}
	targets, err := cl.LinkTargets(ctx, cfg.ComponentSettings.App())
	if err != nil {
		return protocol.LinkResult{}, err
	}
	target, err := findLinkTarget(targets, to, cfg.ComponentSettings.Name, cl.Namespace())
	if err != nil {
		return protocol.LinkResult{}, err
	}
	if port, err = linkPort(target, port); err != nil {
		return protocol.LinkResult{}, err
	}
	l := config.ComponentLink{Name: target.Name, Port: port}
	if target.Kind == config.LinkService {
		l.Kind = config.LinkService
	}
	if err := cfg.AddLink(l); err != nil {
		return protocol.LinkResult{}, invalid("link", err)
	}
	if err := config.Save(s.root, cfg); err != nil {
		return protocol.LinkResult{}, err
	}
	res := protocol.LinkResult{Link: linkOf(cfg, l)}
	res.Pod, err = s.rollLinks(ctx, cl, cfg)
	return res, err
}

// Unlink removes the link to name; on the cluster, the env vars are gone
// once the pod rolled, which Unlink waits for.
func (s *Settings) Unlink(ctx context.Context, name string) (protocol.LinkResult, error) {
	cfg, err := s.load()
	if err != nil {
		return protocol.LinkResult{}, err
	}
	var removed *config.ComponentLink
	for _, l := range cfg.ComponentSettings.Link {
		if l.Name == name {
			removed = &l
		}
	}
	if err := cfg.RemoveLink(name); err != nil {
		return protocol.LinkResult{}, &Error{Code: protocol.CodeNotFound, Reason: "NotLinked", Message: "unlink: " + err.Error(),
			Suggestion: "odod describe lists the component's links", Err: err}
	}
	if err := config.Save(s.root, cfg); err != nil {
		return protocol.LinkResult{}, err
	}
	res := protocol.LinkResult{Link: linkOf(cfg, *removed)}
	cl, err := s.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		s.log.Info("link removed from the settings; the next push applies it")
		return res, nil
	}
	res.Pod, err = s.rollLinks(ctx, cl, cfg)
	return res, err
}

// rollLinks applies the settings' objects when the component is on the
// cluster and waits for the pod the changed environment rolled ("" when
// the component is not pushed yet).
func (s *Settings) rollLinks(ctx context.Context, cl Cluster, cfg *config.LocalConfig) (string, error) {
	if _, pushed, err := onCluster(ctx, cl, cfg); err != nil || !pushed {
		return "", err
	}
	if err := s.applySettings(ctx, cl, cfg); err != nil {
		return "", err
	}
	pod, err := cl.WaitForPod(ctx, ref(cfg), cluster.WaitOptions{})
	if err != nil {
		return "", err
	}
	return pod.Name, nil
}

// Links are the settings' links.
func (s *Settings) Links() ([]protocol.Link, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	return links(cfg), nil
}

func links(cfg *config.LocalConfig) []protocol.Link {
	out := make([]protocol.Link, 0, len(cfg.ComponentSettings.Link))
	for _, l := range cfg.ComponentSettings.Link {
		out = append(out, linkOf(cfg, l))
	}
	return out
}

func linkOf(cfg *config.LocalConfig, l config.ComponentLink) protocol.Link {
	host, port := l.EnvNames()
	return protocol.Link{Name: l.Name, Kind: string(l.EffectiveKind()), Port: l.Port,
		Secret: cluster.LinkSecret(ref(cfg), l), Env: []string{host, port}}
}

// findLinkTarget finds to among targets: a component first, else a
// Service of that name.
func findLinkTarget(targets []cluster.LinkTarget, to, self, namespace string) (cluster.LinkTarget, error) {
	for _, kind := range []config.LinkKind{config.LinkComponent, config.LinkService} {
		for _, t := range targets {
			if t.Name == to && t.Kind == kind {
				return t, nil
			}
		}
	}
	var offer []string
	for _, t := range targets {
		if t.Kind == config.LinkComponent && t.Name == self {
			continue
		}
		offer = append(offer, fmt.Sprintf("%s (%s, %s)", t.Name, t.Kind, portList(t.Ports)))
	}
	suggestion := "push the component to link to first, or deploy the Service; namespace " + namespace + " has nothing else to link to"
	if len(offer) > 0 {
		suggestion = "link one of: " + strings.Join(offer, "; ")
	}
	return cluster.LinkTarget{}, &Error{Code: protocol.CodeNotFound, Reason: "UnknownLinkTarget",
		Message:    fmt.Sprintf("there is no component or Service %q in namespace %s", to, namespace),
		Suggestion: suggestion}
}

// linkPort checks port against the target's ports; 0 is its only port.
func linkPort(t cluster.LinkTarget, port int) (int, error) {
	if len(t.Ports) == 0 {
		return 0, &Error{Code: protocol.CodeInvalidParams, Reason: "NoPort",
			Message: fmt.Sprintf("%s %s exposes no port to link to", t.Kind, t.Name), Suggestion: "add a port to it (odod create --port, or its Service's ports)"}
	}
	if port == 0 {
		if len(t.Ports) == 1 {
			return t.Ports[0], nil
		}
		return 0, &Error{Code: protocol.CodeInvalidParams, Reason: "PortRequired",
			Message:    fmt.Sprintf("%s %s exposes several ports (%s)", t.Kind, t.Name, portList(t.Ports)),
			Suggestion: "choose one with port (--port)"}
	}
	for _, p := range t.Ports {
		if p == port {
			return port, nil
		}
	}
	return 0, &Error{Code: protocol.CodeInvalidParams, Reason: "PortNotExposed",
		Message:    fmt.Sprintf("%s %s does not expose port %d (it has %s)", t.Kind, t.Name, port, portList(t.Ports)),
		Suggestion: "choose one of its ports"}
}

func portList(ports []int) string {
	if len(ports) == 0 {
		return "no ports"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return "ports " + strings.Join(s, ", ")
}
