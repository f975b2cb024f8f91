package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// floorMain is the floor: the smallest useful mcp-go server. Its one tool
// makes one GET of the API's get-incident endpoint with Basic auth and
// returns the body as text. Given paths, it GETs those suffixes of the
// incident's path instead, concurrently: the benchmark passes the requests
// contraforce-mcp's get_incident makes, so that the two can be compared for
// the same API work.
const floorMain = `package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

var (
	base   = os.Getenv("FLOOR_BASE_URL")
	id     = os.Getenv("FLOOR_CLIENT_ID")
	secret = os.Getenv("FLOOR_CLIENT_SECRET")
	api    = newClient()
)

func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: t}
}

func get(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(id, secret)
	res, err := api.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

func main() {
	s := server.NewMCPServer("floor", "1.0.0", server.WithToolCapabilities(false))
	tool := mcp.NewTool("get_incident",
		mcp.WithDescription("Get one incident."),
		mcp.WithString("workspaceId", mcp.Required()),
		mcp.WithString("source", mcp.Required()),
		mcp.WithString("incidentId", mcp.Required()),
		mcp.WithArray("paths", mcp.WithStringItems(), mcp.Description("Suffixes of the incident's path to GET concurrently.")))
	s.AddTool(tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		path := base + "/workspaces/" + url.PathEscape(req.GetString("workspaceId", "")) +
			"/incidents/" + url.PathEscape(req.GetString("source", "")) + "/" + url.PathEscape(req.GetString("incidentId", ""))
		urls := []string{path + "?withDetails=true"}
		if paths, ok := req.GetArguments()["paths"].([]any); ok && len(paths) > 0 {
			urls = urls[:0]
			for _, p := range paths {
				if p, ok := p.(string); ok {
					urls = append(urls, path+p)
				}
			}
		}
		bodies, errs := make([]string, len(urls)), make([]error, len(urls))
		var wg sync.WaitGroup
		for i, u := range urls {
			wg.Add(1)
			go func() { defer wg.Done(); bodies[i], errs[i] = get(ctx, u) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
		}
		return mcp.NewToolResultText(strings.Join(bodies, "\n")), nil
	})
	if err := server.ServeStdio(s); err != nil {
		os.Exit(1)
	}
}
`

// floorGoMod requires the same mcp-go as the project; the rest of the build
// list comes from the module cache (-mod=mod) and the project's go.sum.
const floorGoMod = `module contraforce-bench/floor

go 1.26

require github.com/mark3labs/mcp-go v1.2.1
`

// binaries are the two servers under test.
type binaries struct {
	server string // contraforce-mcp
	floor  string
}

// buildBinaries builds contraforce-mcp from the module at root (unless
// server names a binary to use) and the floor from its source, into dir.
func buildBinaries(ctx context.Context, root, dir, server string) (binaries, error) {
	b := binaries{server: server, floor: filepath.Join(dir, "floor")}
	if server == "" {
		b.server = filepath.Join(dir, "contraforce-mcp")
		if err := goBuild(ctx, root, b.server, "./cmd/contraforce-mcp", false); err != nil {
			return b, fmt.Errorf("build contraforce-mcp: %w", err)
		}
	} else if abs, err := filepath.Abs(server); err == nil {
		b.server = abs
	}
	src := filepath.Join(dir, "floor-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return b, err
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return b, fmt.Errorf("read the project's go.sum: %w", err)
	}
	for name, content := range map[string][]byte{"main.go": []byte(floorMain), "go.mod": []byte(floorGoMod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(src, name), content, 0o644); err != nil {
			return b, err
		}
	}
	if err := goBuild(ctx, src, b.floor, ".", true); err != nil {
		return b, fmt.Errorf("build the floor server: %w", err)
	}
	return b, nil
}

// releaseFlags are the flags release builds use (the Dockerfile's too):
// both servers are built alike, so that neither carries symbols or paths
// the other does not.
var releaseFlags = []string{"-trimpath", "-ldflags", "-s -w"}

// goBuild runs go build in dir as a release build (CGO_ENABLED=0 and
// releaseFlags). With modMod (the floor only: the project's go.mod is never
// touched) -mod=mod lets go.mod gain its indirect requirements from the
// module cache. GOWORK=off keeps a workspace file of the caller's from
// steering either build.
func goBuild(ctx context.Context, dir, out, pkg string, modMod bool) error {
	args := append([]string{"build", "-o", out}, releaseFlags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if modMod {
		cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod")
	}
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(output)))
	}
	return nil
}

// moduleRoot finds the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run contraforce-bench inside the contraforce-mcp module (no go.mod found)")
	}
	return filepath.Dir(gomod), nil
}
