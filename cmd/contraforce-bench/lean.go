package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// leanSession is an MCP session spoken with plain HTTP, written by hand like
// the stdio figures' client (stdioServer): the throughput figures load the
// server from one core, which also runs the emulator, so the load must cost
// little per call or it, not the server, sets the figure. A session sends one
// JSON-RPC request at a time and reads its answer's id and error, nothing
// more. Over streamable HTTP the answer is the POST's response (JSON or an
// event stream); over SSE it arrives on the session's event stream.
type leanSession struct {
	http    *http.Client
	post    string // where requests are POSTed
	token   string
	session string // streamable HTTP: Mcp-Session-Id
	nextID  int

	// SSE: the event stream and the messages read from it; quit stops the
	// reader, done says it stopped.
	stream     io.ReadCloser
	answers    chan []byte
	quit, done chan struct{}
}

// leanConnect opens and initializes a session over one transport.
func (s *servedProc) leanConnect(ctx context.Context, kind string) (*leanSession, error) {
	ls := &leanSession{http: s.http, token: s.token}
	if kind == transportSSE {
		if err := ls.openStream(ctx, s.url); err != nil {
			return nil, err
		}
	} else {
		ls.post = s.url + "/mcp"
	}
	if _, err := ls.request(ctx, "initialize", map[string]any{
		"protocolVersion": mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "contraforce-bench", "version": "1"},
	}); err != nil {
		ls.close()
		return nil, fmt.Errorf("%s: initialize: %w", kind, err)
	}
	if err := ls.send(ctx, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), nil); err != nil {
		ls.close()
		return nil, fmt.Errorf("%s: initialized: %w", kind, err)
	}
	return ls, nil
}

// openStream opens the SSE stream and reads the endpoint it names.
func (ls *leanSession) openStream(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, base+"/sse", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+ls.token)
	res, err := ls.http.Do(req)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return fmt.Errorf("GET /sse: HTTP %d", res.StatusCode)
	}
	ls.stream, ls.answers, ls.quit, ls.done = res.Body, make(chan []byte), make(chan struct{}), make(chan struct{})
	events := bufio.NewReaderSize(res.Body, 64<<10)
	event, data, err := readEvent(events)
	if err != nil || event != "endpoint" {
		res.Body.Close()
		return fmt.Errorf("GET /sse: no endpoint event (%q, %v)", event, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	ep, err := u.Parse(string(data))
	if err != nil {
		res.Body.Close()
		return err
	}
	ls.post = ep.String()
	go func() {
		defer close(ls.done)
		for {
			event, data, err := readEvent(events)
			if err != nil {
				return
			}
			if event == "message" || event == "" {
				select {
				case ls.answers <- data: // the waiting request keeps what answers it
				case <-ls.quit:
					return
				}
			}
		}
	}()
	return nil
}

// readEvent reads one server-sent event: its type and its data lines
// joined.
func readEvent(r *bufio.Reader) (event string, data []byte, err error) {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return "", nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if data != nil || event != "" {
				return event, data, nil
			}
		case bytes.HasPrefix(line, []byte("event:")):
			event = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(line[len("data:"):], []byte(" "))...)
		}
	}
}

// callTool calls a tool; a JSON-RPC error or a tool error is an error.
func (ls *leanSession) callTool(ctx context.Context, name string, args map[string]any) error {
	answer, err := ls.request(ctx, "tools/call", map[string]any{"name": name, "arguments": args})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if bytes.Contains(answer, []byte(`"isError":true`)) {
		return fmt.Errorf("%s: tool error: %s", name, clip(answer, 300))
	}
	return nil
}

// request sends one request and returns its answer.
func (ls *leanSession) request(ctx context.Context, method string, params any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ls.nextID++
	id := ls.nextID
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	var answer []byte
	if err := ls.send(ctx, msg, &answer); err != nil {
		return nil, err
	}
	for answer == nil || !isAnswer(answer, id) { // SSE: wait on the stream
		if ls.answers == nil {
			return nil, fmt.Errorf("%s: no answer to request %d", method, id)
		}
		select {
		case answer = <-ls.answers:
		case <-ls.done:
			return nil, fmt.Errorf("%s: the event stream ended", method)
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", method, ctx.Err())
		}
	}
	var head struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(answer, &head); err != nil {
		return nil, fmt.Errorf("%s: answer: %w", method, err)
	}
	if head.Error != nil {
		return nil, fmt.Errorf("%s: JSON-RPC error %d: %s", method, head.Error.Code, head.Error.Message)
	}
	return answer, nil
}

// isAnswer reports whether a message answers request id.
func isAnswer(msg []byte, id int) bool {
	return bytes.Contains(msg, []byte(`"id":`+strconv.Itoa(id)+`,`)) || bytes.Contains(msg, []byte(`"id":`+strconv.Itoa(id)+`}`))
}

// send POSTs a message. Over streamable HTTP the answer, if any, is the
// response (JSON, or the first message of an event stream); over SSE the
// POST is only accepted.
func (ls *leanSession) send(ctx context.Context, msg []byte, answer *[]byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ls.post, bytes.NewReader(msg))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+ls.token)
	if ls.session != "" {
		req.Header.Set("Mcp-Session-Id", ls.session)
		req.Header.Set("Mcp-Protocol-Version", mcp.LATEST_LEGACY_PROTOCOL_VERSION)
	}
	res, err := ls.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("POST: HTTP %d: %s", res.StatusCode, b)
	}
	if sid := res.Header.Get("Mcp-Session-Id"); sid != "" {
		ls.session = sid
	}
	if ls.answers != nil || answer == nil || res.StatusCode == http.StatusAccepted {
		_, err := io.Copy(io.Discard, res.Body)
		return err
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		_, data, err := readEvent(bufio.NewReader(res.Body))
		*answer = data
		return err
	}
	*answer, err = io.ReadAll(res.Body)
	return err
}

// close ends the session: its event stream, or (streamable HTTP) a DELETE.
func (ls *leanSession) close() {
	if ls.stream != nil {
		close(ls.quit)
		ls.stream.Close()
		<-ls.done
		return
	}
	if ls.session == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, ls.post, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+ls.token)
	req.Header.Set("Mcp-Session-Id", ls.session)
	if res, err := ls.http.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// leanSessions opens n sessions over one transport.
func (s *servedProc) leanSessions(ctx context.Context, kind string, n int) ([]*leanSession, error) {
	var out []*leanSession
	for range n {
		ls, err := s.leanConnect(ctx, kind)
		if err != nil {
			closeLean(out)
			return nil, err
		}
		out = append(out, ls)
	}
	return out, nil
}

// closeLean closes sessions concurrently.
func closeLean(ls []*leanSession) {
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() { defer wg.Done(); l.close() }()
	}
	wg.Wait()
}
