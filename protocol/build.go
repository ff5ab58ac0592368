package protocol

// Builds, rollout history and rollback.
const (
	// MethodComponentBuild builds an image from the workspace's files (or
	// a git component's repository) and deploys nothing.
	MethodComponentBuild = "odod/component/build"
	// MethodComponentHistory lists the workload's revisions.
	MethodComponentHistory = "odod/component/history"
	// MethodComponentRollback rolls the workload back to a revision.
	MethodComponentRollback = "odod/component/rollback"
)

// ComponentBuildParams asks for an image build.
type ComponentBuildParams struct {
	WorkspaceID string `json:"workspaceId"`
	WorkDoneProgressParams
}

// ComponentBuildResult answers odod/component/build.
type ComponentBuildResult struct {
	// Image is the pushed image by digest (registry/path@sha256:…).
	Image      string `json:"image"`
	DurationMs int64  `json:"durationMs"`
}

// Revision is one rollout of the component's workload.
type Revision struct {
	Revision int64 `json:"revision"`
	// Name is the ReplicaSet (Deployment) or ReplicationController
	// (DeploymentConfig) that holds it.
	Name string `json:"name"`
	// Image is the app container's image.
	Image string `json:"image"`
	// Created is RFC 3339.
	Created string `json:"created"`
	// Cause says what made it (odod records a build's repository, ref and
	// commit).
	Cause string `json:"cause,omitempty"`
	// Current is the revision running now.
	Current bool `json:"current"`
}

// ComponentHistoryResult answers odod/component/history.
type ComponentHistoryResult struct {
	// Workload is "Deployment" or "DeploymentConfig".
	Workload string `json:"workload"`
	// Revisions, oldest first.
	Revisions []Revision `json:"revisions"`
}

// ComponentRollbackParams asks for a rollback.
type ComponentRollbackParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Revision to roll back to; 0 or absent means the one before the
	// current.
	Revision int64 `json:"revision,omitempty"`
}

// ComponentRollbackResult answers odod/component/rollback once the
// rolled-back pod runs.
type ComponentRollbackResult struct {
	// RolledBackTo is the revision whose template now runs (the
	// controller records it under a new revision number).
	RolledBackTo Revision `json:"rolledBackTo"`
	// Pod is the pod now running it.
	Pod string `json:"pod"`
}
