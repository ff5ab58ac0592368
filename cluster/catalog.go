package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	imagev1 "github.com/openshift/api/image/v1"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CatalogNamespace is where odo looked for builder ImageStreams.
const CatalogNamespace = "openshift"

// Catalog sources.
const (
	SourceImageStream = "ImageStream"
	SourceBuiltIn     = "BuiltIn"
)

// CatalogEntry is one component type.
type CatalogEntry struct {
	// Name is the type's name ("nodejs").
	Name string `json:"name"`
	// Namespace holds the ImageStream; "" for built-in types.
	Namespace string `json:"namespace,omitempty"`
	// Tags are the versions tagged builder, in the stream's order.
	Tags []string `json:"tags"`
	// Source is ImageStream or BuiltIn.
	Source string `json:"source"`
	// Description is the stream's or tag's description annotation.
	Description string `json:"description,omitempty"`
	// Images maps a built-in type's tags to images (ImageStreams are
	// resolved through the stream).
	Images map[string]string `json:"images,omitempty"`
}

// BuiltinCatalog is used where the cluster has no builder ImageStreams:
// the Node.js builder of odod's local registry.
func BuiltinCatalog() []CatalogEntry {
	return []CatalogEntry{{
		Name: "nodejs", Tags: []string{"latest"}, Source: SourceBuiltIn,
		Description: "Node.js S2I builder (odod's local registry)",
		Images:      map[string]string{"latest": "127.0.0.1:5000/odod/nodejs-builder:latest"},
	}}
}

// Catalog lists the component types: ImageStreams in the openshift
// namespace with a tag annotated `tags: …builder…` (odo's rule; tags
// marked hidden are left out), or the built-in list when there are none
// or the cluster serves no ImageStreams.
func (c *Client) Catalog(ctx context.Context) ([]CatalogEntry, error) {
	entries, err := c.imageStreamCatalog(ctx, CatalogNamespace)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return BuiltinCatalog(), nil
	}
	return entries, nil
}

func (c *Client) imageStreamCatalog(ctx context.Context, namespace string) ([]CatalogEntry, error) {
	if c.sets.Image == nil {
		return nil, nil
	}
	list, err := c.sets.Image.ImageV1().ImageStreams(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		if k := KindOf(classify(err, "")); k == KindUnauthorized || k == KindNotFound {
			c.log.Debug("builder ImageStreams not readable; using the built-in catalog", zap.Error(err))
			return nil, nil
		}
		return nil, classify(err, "list builder ImageStreams in "+namespace)
	}
	var out []CatalogEntry
	for _, is := range list.Items {
		e := CatalogEntry{Name: is.Name, Namespace: is.Namespace, Source: SourceImageStream, Description: is.Annotations["description"]}
		for _, t := range is.Spec.Tags {
			if isBuilderTag(t) {
				e.Tags = append(e.Tags, t.Name)
				if e.Description == "" {
					e.Description = t.Annotations["description"]
				}
			}
		}
		if len(e.Tags) > 0 {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func isBuilderTag(t imagev1.TagReference) bool {
	builder := false
	for _, v := range strings.Split(t.Annotations["tags"], ",") {
		switch strings.TrimSpace(v) {
		case "builder":
			builder = true
		case "hidden":
			return false
		}
	}
	return builder
}

// IsImageReference says whether a component type is a direct image
// reference rather than a catalog name: its first path element is a
// registry host (has a '.' or ':' or is localhost), or it has a digest.
// "nodejs", "nodejs:14" and "myproject/nodejs" are catalog names, as in
// odo ([<namespace>/]<name>[:<tag>]).
func IsImageReference(typ string) bool {
	if strings.Contains(typ, "@") {
		return true
	}
	first, _, hasSlash := strings.Cut(typ, "/")
	return hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost")
}

// ResolveType turns a component type into a Builder: a direct image
// reference is used as it is; a catalog name is looked up in the
// ImageStreams (its namespace, else openshift) or the built-in list, and
// its tag (default latest, else the first builder tag) resolved to an
// image.
func (c *Client) ResolveType(ctx context.Context, typ string) (Builder, error) {
	typ = strings.TrimSpace(typ)
	if typ == "" {
		return Builder{}, &Error{Kind: KindInvalid, Message: "no component type", Suggestion: "name a type from `odod catalog` or an image reference"}
	}
	if IsImageReference(typ) {
		return builderFromImage(typ)
	}
	nameTag, namespace := typ, CatalogNamespace
	if ns, rest, ok := strings.Cut(typ, "/"); ok {
		namespace, nameTag = ns, rest
	}
	streamName, tag, _ := strings.Cut(nameTag, ":")
	if c.sets.Image != nil {
		is, err := c.sets.Image.ImageV1().ImageStreams(namespace).Get(ctx, streamName, metav1.GetOptions{})
		switch k := KindOf(classify(err, "")); {
		case err == nil:
			return resolveStreamTag(typ, is, tag)
		case k != KindNotFound && k != KindUnauthorized:
			return Builder{}, classify(err, "read ImageStream "+namespace+"/"+streamName)
		}
	}
	for _, e := range BuiltinCatalog() {
		if e.Name != streamName || namespace != CatalogNamespace {
			continue
		}
		if tag == "" {
			tag = e.Tags[0]
		}
		img, ok := e.Images[tag]
		if !ok {
			return Builder{}, notFoundType(typ, fmt.Sprintf("type %s has no version %q (versions: %s)", streamName, tag, strings.Join(e.Tags, ", ")))
		}
		return Builder{Type: typ, Name: streamName, Tag: tag, Image: img}, nil
	}
	return Builder{}, notFoundType(typ, fmt.Sprintf("no component type %q", typ))
}

func notFoundType(typ, msg string) *Error {
	return &Error{Kind: KindNotFound, Reason: "UnknownType", Message: msg,
		Suggestion: "list the types with `odod catalog`, or give a full image reference such as registry.example.com/team/builder:tag"}
}

func builderFromImage(typ string) (Builder, error) {
	ref, err := ParseImageRef(typ)
	if err != nil {
		return Builder{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not an image reference", typ), Err: err,
			Suggestion: "write it as registry/repository[:tag] or registry/repository@sha256:…"}
	}
	repo := ref.Context().RepositoryStr()
	b := Builder{Type: typ, Name: repo[strings.LastIndex(repo, "/")+1:], Image: typ}
	switch r := ref.(type) {
	case name.Tag:
		b.Tag = r.TagStr()
	case name.Digest:
		d := strings.TrimPrefix(r.DigestStr(), "sha256:")
		if len(d) > 12 {
			d = d[:12]
		}
		b.Tag = d
	}
	return b, nil
}

// resolveStreamTag picks the tag and finds its image: the status's
// latest image when the image controller has imported it, else the spec
// tag's DockerImage, following tags that point at other tags of the
// stream (latest → 14).
func resolveStreamTag(typ string, is *imagev1.ImageStream, tag string) (Builder, error) {
	specTags := map[string]imagev1.TagReference{}
	var builderTags []string
	for _, t := range is.Spec.Tags {
		specTags[t.Name] = t
		if isBuilderTag(t) {
			builderTags = append(builderTags, t.Name)
		}
	}
	if tag == "" {
		if _, ok := specTags["latest"]; ok {
			tag = "latest"
		} else if len(builderTags) > 0 {
			tag = builderTags[0]
		} else {
			return Builder{}, notFoundType(typ, fmt.Sprintf("ImageStream %s/%s has no builder tag", is.Namespace, is.Name))
		}
	}
	b := Builder{Type: typ, Name: is.Name, Tag: tag, ImageStream: &ImageStreamTagRef{Namespace: is.Namespace, Name: is.Name, Tag: tag}}
	current := tag
	for hops := 0; hops < 5; hops++ {
		for _, st := range is.Status.Tags {
			if st.Tag == current && len(st.Items) > 0 && st.Items[0].DockerImageReference != "" {
				b.Image = st.Items[0].DockerImageReference
				return b, nil
			}
		}
		t, ok := specTags[current]
		if !ok || t.From == nil {
			break
		}
		switch t.From.Kind {
		case "DockerImage":
			b.Image = t.From.Name
			return b, nil
		case "ImageStreamTag":
			next := t.From.Name
			if i := strings.LastIndex(next, ":"); i >= 0 {
				if streamPart := next[:i]; streamPart != "" && streamPart != is.Name {
					break
				}
				next = next[i+1:]
			}
			current = next
			continue
		}
		break
	}
	var tags []string
	for _, t := range is.Spec.Tags {
		tags = append(tags, t.Name)
	}
	return Builder{}, notFoundType(typ, fmt.Sprintf("ImageStream %s/%s has no image for tag %q (tags: %s)", is.Namespace, is.Name, tag, strings.Join(tags, ", ")))
}
