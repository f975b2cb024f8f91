package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// pinning puts the hosted server on one core and the benchmark's own
// process (the load: MCP clients, and the emulator they reach) on another,
// with taskset from util-linux, so that a throughput figure says what one
// core of server does rather than how the scheduler shared two. When it
// cannot (taskset missing, one core), ok is false and why says so in the
// table; the figures are then measured unpinned.
type pinning struct {
	ok           bool
	why          string
	taskset      string // path of taskset
	server, load int    // cores
}

// newPinning looks for taskset and two cores.
func newPinning() pinning {
	if runtime.NumCPU() < 2 {
		return pinning{why: fmt.Sprintf("not pinned: the machine has %d core", runtime.NumCPU())}
	}
	path, err := exec.LookPath("taskset")
	if err != nil {
		return pinning{why: "not pinned: taskset (util-linux) is not installed, so server and load shared every core"}
	}
	return pinning{ok: true, taskset: path, server: 0, load: 1}
}

// describe is the table's wording of how the figures were pinned.
func (p pinning) describe() string {
	if !p.ok {
		return p.why
	}
	return fmt.Sprintf("server pinned to core %d, load and emulator to core %d (taskset)", p.server, p.load)
}

// command returns the command running bin with args, on the server's core
// when pinning (taskset execs bin: the process id is the server's).
func (p pinning) command(bin string, args ...string) *exec.Cmd {
	if !p.ok {
		return exec.Command(bin, args...)
	}
	return exec.Command(p.taskset, append([]string{"-c", strconv.Itoa(p.server), bin}, args...)...)
}

// pinSelf pins every thread of this process to the load core (threads
// started later inherit it) and returns a function that gives it every
// core back.
func (p pinning) pinSelf() (restore func(), err error) {
	if !p.ok {
		return func() {}, nil
	}
	pid := strconv.Itoa(os.Getpid())
	set := func(cores string) error {
		out, err := exec.Command(p.taskset, "-a", "-p", "-c", cores, pid).CombinedOutput()
		if err != nil {
			return fmt.Errorf("taskset -a -p -c %s: %w: %s", cores, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := set(strconv.Itoa(p.load)); err != nil {
		return nil, err
	}
	all := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	return func() { _ = set(all) }, nil
}
