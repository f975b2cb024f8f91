package resources

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
)

// Completion limits. The MCP specification caps a completion at 100
// values; the recent-incidents cache is short-lived and bounded so that a
// long-running hosted server holds neither stale data nor one entry per
// client it ever saw.
const (
	maxCompletionValues = 100
	completionTTL       = 30 * time.Second
	maxCacheEntries     = 128
	// fetchTimeout bounds one list call made for completion: it runs
	// detached from the caller so that concurrent callers can share it.
	fetchTimeout = 20 * time.Second
)

// Completer completes the arguments of the resource templates and of the
// prompts: the source and the other enumerations from the client's enum
// types, workspaceId from the workspaces the session's credential sees, and
// incidentId from recent incidents (narrowed by the workspaceId and source
// already chosen). Matching is by prefix, ignoring case.
//
// A Completer implements both server.ResourceCompletionProvider and
// server.PromptCompletionProvider; register one with
// server.WithResourceCompletionProvider and server.WithPromptCompletionProvider.
// It is safe for concurrent use.
type Completer struct {
	deps Deps
	now  func() time.Time

	mu    sync.Mutex
	cache map[cacheKey]*cacheEntry
}

var (
	_ server.ResourceCompletionProvider = (*Completer)(nil)
	_ server.PromptCompletionProvider   = (*Completer)(nil)
)

// NewCompleter returns a Completer that calls the API through d.Client.
func NewCompleter(d Deps) *Completer {
	return &Completer{deps: d, now: time.Now, cache: make(map[cacheKey]*cacheEntry)}
}

// CompleteResourceArgument completes an argument of one of this package's
// resource templates; any other URI gets no values.
func (c *Completer) CompleteResourceArgument(ctx context.Context, uri string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	switch uri {
	case IncidentTemplate, CommentsTemplate, EvidenceTemplate:
		return c.complete(ctx, arg, cc)
	}
	return &mcp.Completion{Values: []string{}}, nil
}

// CompletePromptArgument completes a prompt argument by its name: the
// prompts name their arguments as the tools and resources do.
func (c *Completer) CompletePromptArgument(ctx context.Context, _ string, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	return c.complete(ctx, arg, cc)
}

// complete dispatches on the argument's name.
func (c *Completer) complete(ctx context.Context, arg mcp.CompleteArgument, cc mcp.CompleteContext) (*mcp.Completion, error) {
	switch arg.Name {
	case "source":
		return matching(client.EnumStrings[client.Source](), arg.Value), nil
	case "status":
		return matching(client.EnumStrings[client.Status](), arg.Value), nil
	case "severity":
		return matching(client.EnumStrings[client.Severity](), arg.Value), nil
	case "classification":
		return matching(client.EnumStrings[client.Classification](), arg.Value), nil
	case "classificationReason":
		return matching(client.EnumStrings[client.ClassificationReason](), arg.Value), nil
	case "hours":
		return matching([]string{"4", "8", "12", "24", "48"}, arg.Value), nil
	case "workspaceId":
		rows, err := c.recent(ctx, "")
		if err != nil {
			return nil, fmt.Errorf("completing workspaceId: %s", Describe("listing recent incidents", err))
		}
		return matchingWorkspaces(rows, arg.Value), nil
	case "incidentId":
		src, _ := ParseSource(cc.Arguments["source"])
		rows, err := c.recent(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("completing incidentId: %s", Describe("listing recent incidents", err))
		}
		ws := cc.Arguments["workspaceId"]
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			if ws == "" || strings.EqualFold(ws, r.WorkspaceID) {
				ids = append(ids, r.ID)
			}
		}
		return matching(ids, arg.Value), nil
	}
	return &mcp.Completion{Values: []string{}}, nil
}

// matching returns the values that start with prefix, ignoring case, in
// their given order, at most maxCompletionValues of them.
func matching(values []string, prefix string) *mcp.Completion {
	p := strings.ToLower(prefix)
	out := make([]string, 0, min(len(values), maxCompletionValues))
	total := 0
	for _, v := range values {
		if !strings.HasPrefix(strings.ToLower(v), p) {
			continue
		}
		total++
		if len(out) < maxCompletionValues {
			out = append(out, v)
		}
	}
	return &mcp.Completion{Values: out, Total: total, HasMore: total > len(out)}
}

// matchingWorkspaces returns the workspace ids that start with prefix, or
// whose workspace name does (a person types names, not GUIDs).
func matchingWorkspaces(rows []recentIncident, prefix string) *mcp.Completion {
	p := strings.ToLower(prefix)
	var ids []string
	for _, r := range rows {
		if slices.Contains(ids, r.WorkspaceID) {
			continue
		}
		if strings.HasPrefix(strings.ToLower(r.WorkspaceID), p) || strings.HasPrefix(strings.ToLower(r.WorkspaceName), p) {
			ids = append(ids, r.WorkspaceID)
		}
	}
	slices.Sort(ids)
	return matching(ids, "")
}

// recentIncident is what completion keeps of a list row.
type recentIncident struct {
	WorkspaceID, WorkspaceName, ID string
}

type cacheKey struct {
	api    *client.Client
	source client.Source
}

// cacheEntry is one list call's rows; done is closed when they (or err)
// are set, so that concurrent callers share one call.
type cacheEntry struct {
	done chan struct{}
	at   time.Time
	rows []recentIncident
	err  error
}

// recent returns the first page of incidents the session's credential sees
// (of one source, if given), newest first. The API pages per workspace and
// source, so its first page names every workspace that has incidents: the
// credential's workspaces are derived from it rather than from GET /users,
// whose role assignments name users, not the calling credential.
func (c *Completer) recent(ctx context.Context, src client.Source) ([]recentIncident, error) {
	if c.deps.Client == nil {
		return nil, fmt.Errorf("no API client is configured")
	}
	api, err := c.deps.Client(ctx)
	if err != nil {
		return nil, err
	}
	key := cacheKey{api: api, source: src}
	c.mu.Lock()
	e, ok := c.cache[key]
	if !ok || (isDone(e) && c.now().Sub(e.at) > completionTTL) {
		e = &cacheEntry{done: make(chan struct{}), at: c.now()}
		c.cache[key] = e
		c.evictLocked()
		go c.fill(ctx, key, e)
	}
	c.mu.Unlock()

	select {
	case <-e.done:
		return e.rows, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill makes the list call of a new cache entry. A failure is not cached.
func (c *Completer) fill(ctx context.Context, key cacheKey, e *cacheEntry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	var f client.IncidentFilter
	if key.source != "" {
		f.Sources = []client.Source{key.source}
	}
	page, err := key.api.ListIncidents(ctx, f, client.PageToken{})
	if err == nil {
		rows := slices.Clone(page.Incidents)
		slices.SortStableFunc(rows, func(a, b client.IncidentSummary) int { return NewestFirst(a.CreationTime, b.CreationTime) })
		e.rows = make([]recentIncident, len(rows))
		for i, r := range rows {
			e.rows[i] = recentIncident{WorkspaceID: Clean(r.WorkspaceID, maxCell), WorkspaceName: Clean(r.WorkspaceName, maxCell),
				ID: Clean(r.ID, maxCell)}
		}
	}
	c.mu.Lock()
	e.err = err
	e.at = c.now()
	if err != nil && c.cache[key] == e {
		delete(c.cache, key)
	}
	c.mu.Unlock()
	close(e.done)
}

// evictLocked drops expired entries, then the oldest finished ones while
// the cache is over its bound. Entries still being filled stay: their
// callers are waiting on them.
func (c *Completer) evictLocked() {
	now := c.now()
	for k, e := range c.cache {
		if isDone(e) && now.Sub(e.at) > completionTTL {
			delete(c.cache, k)
		}
	}
	for len(c.cache) > maxCacheEntries {
		var oldest cacheKey
		var found *cacheEntry
		for k, e := range c.cache {
			if isDone(e) && (found == nil || e.at.Before(found.at)) {
				oldest, found = k, e
			}
		}
		if found == nil {
			return
		}
		delete(c.cache, oldest)
	}
}

func isDone(e *cacheEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// NewestFirst orders RFC 3339 times, newest first; unparsable times last.
func NewestFirst(a, b string) int {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	switch {
	case errA != nil && errB != nil:
		return 0
	case errA != nil:
		return 1
	case errB != nil:
		return -1
	}
	return tb.Compare(ta)
}

// ServerOptions returns the options that offer completion through c: the
// completions capability and c as both the resource and the prompt
// completion provider.
func (c *Completer) ServerOptions() []server.ServerOption {
	return []server.ServerOption{server.WithCompletions(), server.WithResourceCompletionProvider(c),
		server.WithPromptCompletionProvider(c)}
}
