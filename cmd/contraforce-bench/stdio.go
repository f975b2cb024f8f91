package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// rpcTimeout bounds the wait for one answer over stdio.
const rpcTimeout = 30 * time.Second

// stdioServer is a server process spoken to over stdin/stdout with
// newline-delimited JSON-RPC, written by hand so that the measurement
// carries no client library's cost and sees the exact bytes answered.
type stdioServer struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	out    *bufio.Reader
	nextID int
	// Started is when the process was spawned.
	Started time.Time
}

// spawn starts bin with args and env (added to a minimal environment);
// its stderr is discarded.
func spawn(bin string, args, env []string) (*stdioServer, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, nil
	cmd.Env = append(serverEnv(), env...)
	s := &stdioServer{cmd: cmd, stdin: inW, stdout: outR, out: bufio.NewReaderSize(outR, 64<<10), Started: time.Now()}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return s, nil
}

// serverEnv is the environment of every server process: a minimal one
// (no CONTRAFORCE_* variable of the caller's leaks into a measurement),
// plus the Go runtime's knobs, given to both servers alike.
func serverEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Pid is the server's process id.
func (s *stdioServer) Pid() int { return s.cmd.Process.Pid }

// request sends one request and returns the whole response line (the
// JSON-RPC message as the server wrote it). A JSON-RPC error is an error.
func (s *stdioServer) request(method string, params any) ([]byte, error) {
	s.nextID++
	id := s.nextID
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if _, err := s.stdin.Write(append(msg, '\n')); err != nil {
		return nil, fmt.Errorf("%s: write: %w", method, err)
	}
	_ = s.stdout.SetReadDeadline(time.Now().Add(rpcTimeout))
	want := []byte(`"id":` + strconv.Itoa(id))
	for range 1000 { // notifications may come first; bounded all the same
		line, err := s.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w", method, err)
		}
		if !bytes.Contains(line, want) {
			continue
		}
		var head struct {
			ID    json.RawMessage `json:"id"`
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line, &head); err != nil || string(head.ID) != strconv.Itoa(id) {
			continue
		}
		if head.Error != nil {
			return nil, fmt.Errorf("%s: JSON-RPC error %d: %s", method, head.Error.Code, head.Error.Message)
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
	return nil, fmt.Errorf("%s: no answer among 1000 messages", method)
}

// notify sends a notification.
func (s *stdioServer) notify(method string) error {
	_, err := fmt.Fprintf(s.stdin, `{"jsonrpc":"2.0","method":%q}`+"\n", method)
	return err
}

// initialize performs the handshake every stdio client performs today.
func (s *stdioServer) initialize() error {
	_, err := s.request("initialize", map[string]any{
		"protocolVersion": mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "contraforce-bench", "version": "1"},
	})
	if err != nil {
		return err
	}
	return s.notify("notifications/initialized")
}

// callTool calls a tool and returns the whole response line. A tool error
// (isError) is an error: the benchmark only makes calls that succeed.
func (s *stdioServer) callTool(name string, args map[string]any) ([]byte, error) {
	line, err := s.request("tools/call", map[string]any{"name": name, "arguments": args})
	if err != nil {
		return nil, err
	}
	if bytes.Contains(line, []byte(`"isError":true`)) {
		return nil, fmt.Errorf("tool %s failed: %s", name, clip(line, 300))
	}
	return line, nil
}

// close ends the server: stdin closes (a clean stop), then a kill after 5 s.
func (s *stdioServer) close() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.stdout.Close()
}

// rssKiB reads a process's resident set size (VmRSS) in KiB.
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS (Linux only): %w", err)
	}
	defer f.Close()
	return parseVmRSS(f)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procCPU is a process's user + system CPU time so far, 0 if unreadable
// (the figure then shows 0, and the table stays honest about it).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	cpu, _ := parseStatCPU(string(raw))
	return cpu
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short stat line")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat CPU field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseVmRSS reads the VmRSS line of a /proc/<pid>/status file.
func parseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}

// clip shortens b for an error message.
func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
