package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// headerLines say when and on what the figures were measured.
func headerLines(root string, quick bool, server string) []string {
	mode := "full run"
	if quick {
		mode = "QUICK run (--quick: few iterations; figures are rough)"
	}
	rev := "git unknown"
	if out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		rev = "git " + strings.TrimSpace(string(out))
	}
	if server != "" {
		rev = "the given binary " + server
	}
	return []string{
		fmt.Sprintf("**contraforce-bench** %s, %s", mode, time.Now().UTC().Format("2006-01-02 15:04 MST")),
		fmt.Sprintf("contraforce-mcp %s (%s), mcp-go %s, %s %s/%s", client.Version, rev, moduleVersion("github.com/mark3labs/mcp-go"),
			runtime.Version(), runtime.GOOS, runtime.GOARCH),
		fmt.Sprintf("CPU %s, %d cores; all traffic on loopback against the ContraForce emulator", cpuModel(), runtime.NumCPU()),
	}
}

// moduleVersion is the version of a module this binary was built with.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

// cpuModel reads the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the 1-minute load average: other work on the machine
// shows in every figure, so the table says how busy it was.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(raw)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
