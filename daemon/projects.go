package daemon

import (
	"context"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// projectTimeout bounds the wait for a deleted project to be gone.
const projectTimeout = 2 * time.Minute

func (s *Server) projectList(ctx context.Context, _ *jsonrpc2.Conn, _ protocol.ProjectListParams) (any, error) {
	cl, err := s.connect(ctx, "")
	if err != nil {
		return nil, engineError(err)
	}
	list, err := cl.ListProjects(ctx)
	if err != nil {
		return nil, engineError(err)
	}
	return ProjectListResult(cl.Namespace(), list), nil
}

// projectName checks a project name before anything reaches the cluster.
func projectName(name string) error {
	if name == "" {
		return invalidParams("name", "is required", "Pass the project's name.")
	}
	if err := cluster.CheckProjectName(name); err != nil {
		return invalidParams("name", err.Error(), "Use lower-case letters, digits and '-', at most 63 characters.")
	}
	return nil
}

func (s *Server) projectCreate(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ProjectNameParams) (any, error) {
	if err := projectName(p.Name); err != nil {
		return nil, err
	}
	cl, err := s.connect(ctx, "")
	if err != nil {
		return nil, engineError(err)
	}
	if err := cl.CreateProject(ctx, p.Name); err != nil {
		return nil, engineError(err)
	}
	return protocol.ProjectResult{Name: p.Name, Current: cl.Namespace()}, nil
}

// projectSet chooses the project while it holds the queue, so that the
// requests after it use it, and then checks it on the cluster without
// holding the queue; a project that does not exist is undone.
func (s *Server) projectSet(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ProjectNameParams) (any, error) {
	if err := projectName(p.Name); err != nil {
		return nil, err
	}
	before := s.opts.Clusters.Selection()
	sel := before
	sel.Namespace = p.Name
	s.opts.Clusters.Configure(sel)
	cl, err := s.connect(ctx, p.Name)
	if err == nil {
		_, err = cl.GetProject(ctx, p.Name)
		if cluster.KindOf(err) == cluster.KindUnauthorized {
			// A user may work in a namespace they may not read.
			err = nil
		}
	}
	if err != nil {
		s.opts.Clusters.Configure(before)
		return nil, engineError(err)
	}
	s.clusterSelectionChanged()
	return protocol.ProjectResult{Name: p.Name, Current: p.Name}, nil
}

func (s *Server) projectDelete(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ProjectDeleteParams) (any, error) {
	if err := projectName(p.Name); err != nil {
		return nil, err
	}
	cl, err := s.connect(ctx, "")
	if err != nil {
		return nil, engineError(err)
	}
	if err := cl.DeleteProject(ctx, p.Name, p.Wait == nil || *p.Wait, projectTimeout); err != nil {
		return nil, engineError(err)
	}
	if sel := s.opts.Clusters.Selection(); sel.Namespace == p.Name {
		sel.Namespace = ""
		s.opts.Clusters.Configure(sel)
		s.clusterSelectionChanged()
	}
	return protocol.ProjectResult{Name: p.Name, Current: s.opts.Clusters.DefaultNamespace()}, nil
}

// ProjectListResult is odod/project/list's answer (and odod project list
// -o json's).
func ProjectListResult(current string, list cluster.ProjectList) protocol.ProjectListResult {
	res := protocol.ProjectListResult{Current: current, Complete: list.Complete, Projects: []protocol.Project{}}
	for _, p := range list.Projects {
		res.Projects = append(res.Projects, protocol.Project{Name: p.Name, Phase: p.Phase, Current: p.Name == res.Current})
	}
	if !list.Complete {
		res.Message = "You may not list the projects of this cluster: only the current one, " + current + ", is shown."
	}
	return res
}
