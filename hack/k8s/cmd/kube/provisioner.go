package main

// The local volume provisioner gives the test cluster dynamic PVCs. The
// controller-manager's built-in host-path provisioner would do, except that
// it creates every volume directory 0750 root-owned, so the non-root users
// of S2I builder images (uid 1001, the OpenShift convention) cannot write to
// their own PVC. This one creates each volume as a world-writable directory
// under the cluster's state directory, binds it through a hostPath PV with a
// claimRef, and deletes directory and PV once the claim is gone (reclaim
// policy Delete). The sig-storage external provisioner library would be the
// usual base, but the module proxy here does not serve it.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

const (
	// annStorageProvisioner is set on a claim by the PV controller when the
	// claim's StorageClass names an external provisioner.
	annStorageProvisioner = "volume.kubernetes.io/storage-provisioner"
	// annProvisionedBy marks the PVs this provisioner created.
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

func newLocalVolumeProvisionerCommand() *cobra.Command {
	var kubeconfig, root, name string
	cmd := &cobra.Command{
		Use:   "local-volume-provisioner",
		Short: "Provision hostPath PVs for claims of a StorageClass, as world-writable directories under --root",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kubeconfig == "" || root == "" {
				return errors.New("--kubeconfig and --root are required")
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return runProvisioner(ctx, kubeconfig, root, name)
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster")
	cmd.Flags().StringVar(&root, "root", "", "directory that holds one subdirectory per volume")
	cmd.Flags().StringVar(&name, "provisioner-name", "odod.dev/local-volume", "the provisioner field of the StorageClasses served")
	return cmd
}

type provisioner struct {
	client  kubernetes.Interface
	root    string
	name    string
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
	queue   workqueue.TypedRateLimitingInterface[string]
}

// Queue keys: "claim/<namespace>/<name>" or "volume/<name>".
const claimKeyPrefix, volumeKeyPrefix = "claim/", "volume/"

func runProvisioner(ctx context.Context, kubeconfig, root, name string) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("create volume root: %w", err)
	}
	factory := informers.NewSharedInformerFactory(client, 30*time.Second)
	p := &provisioner{
		client:  client,
		root:    root,
		name:    name,
		claims:  factory.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: factory.Core().V1().PersistentVolumes().Lister(),
		classes: factory.Storage().V1().StorageClasses().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "local-volume-provisioner"}),
	}
	defer p.queue.ShutDown()
	enqueue := func(prefix string) cache.ResourceEventHandlerFuncs {
		add := func(obj any) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				p.queue.Add(prefix + key)
			}
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }}
	}
	if _, err := factory.Core().V1().PersistentVolumeClaims().Informer().AddEventHandler(enqueue(claimKeyPrefix)); err != nil {
		return fmt.Errorf("watch claims: %w", err)
	}
	if _, err := factory.Core().V1().PersistentVolumes().Informer().AddEventHandler(enqueue(volumeKeyPrefix)); err != nil {
		return fmt.Errorf("watch volumes: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, synced := range factory.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	klog.InfoS("local volume provisioner running", "provisioner", name, "root", root)
	go func() {
		<-ctx.Done()
		p.queue.ShutDown()
	}()
	for p.processNext(ctx) {
	}
	return nil
}

func (p *provisioner) processNext(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	var err error
	switch {
	case strings.HasPrefix(key, claimKeyPrefix):
		err = p.syncClaim(ctx, strings.TrimPrefix(key, claimKeyPrefix))
	case strings.HasPrefix(key, volumeKeyPrefix):
		err = p.syncVolume(ctx, strings.TrimPrefix(key, volumeKeyPrefix))
	}
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("%s: %w (will retry)", key, err))
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// syncClaim creates a directory and a pre-bound PV for a pending claim that
// the PV controller has handed to this provisioner.
func (p *provisioner) syncClaim(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	claim, err := p.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if claim.Spec.VolumeName != "" || claim.Annotations[annStorageProvisioner] != p.name || claim.DeletionTimestamp != nil {
		return nil
	}
	volumeName := "pvc-" + string(claim.UID)
	if _, err := p.volumes.Get(volumeName); err == nil {
		return nil
	}
	className := ""
	if claim.Spec.StorageClassName != nil {
		className = *claim.Spec.StorageClassName
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class, err := p.classes.Get(className); err == nil && class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	dir := filepath.Join(p.root, volumeName)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	// MkdirAll's mode is reduced by the umask; containers of any uid must
	// be able to write, as on a real cluster's fresh volume.
	if err := os.Chmod(dir, 0o777); err != nil {
		return fmt.Errorf("open volume directory to all users: %w", err)
	}
	directory := corev1.HostPathDirectory
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        volumeName,
			Annotations: map[string]string{annProvisionedBy: p.name},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              className,
			VolumeMode:                    claim.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &directory},
			},
		},
	}
	_, err = p.client.CoreV1().PersistentVolumes().Create(ctx, volume, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create PV %s: %w", volumeName, err)
	}
	klog.InfoS("provisioned", "claim", key, "volume", volumeName, "path", dir)
	return nil
}

// syncVolume deletes a released volume of this provisioner whose reclaim
// policy is Delete, directory first so that nothing outlives its PV.
func (p *provisioner) syncVolume(ctx context.Context, name string) error {
	volume, err := p.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if volume.Annotations[annProvisionedBy] != p.name ||
		volume.Status.Phase != corev1.VolumeReleased ||
		volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		volume.Spec.HostPath == nil {
		return nil
	}
	dir := filepath.Clean(volume.Spec.HostPath.Path)
	if filepath.Dir(dir) != filepath.Clean(p.root) {
		return fmt.Errorf("volume %s path %s is not under %s: delete it by hand", name, dir, p.root)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume directory: %w", err)
	}
	err = p.client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete PV %s: %w", name, err)
	}
	klog.InfoS("deleted released volume", "volume", name, "path", dir)
	return nil
}
