package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// storesResult is what the cursor and confirmation checks saw.
type storesResult struct {
	pagedOn, askedOn, answeredOn string
}

// twoTokens returns two of the tokens that nginx hashes to different replicas.
func twoTokens(tokens []string, upstream map[string]string) (string, string, error) {
	for _, x := range tokens {
		for _, y := range tokens {
			if upstream[x] != upstream[y] {
				return x, y, nil
			}
		}
	}
	return "", "", fmt.Errorf("tokens %d: all hash to one replica", len(tokens))
}

// storesCheck: a list_incidents cursor issued by one replica pages on
// another, and a closure asked by one replica and answered on another
// (session-less 2026-07-28 clients of one tenant, on tokens nginx hashes to
// different replicas) is sent once; the answer sent again sends nothing.
func storesCheck(ctx context.Context, c config, tokens []string, upstream map[string]string, skip []client.IncidentRef) (*storesResult, error) {
	x, y, err := twoTokens(tokens, upstream)
	if err != nil {
		return nil, fmt.Errorf("stores check: %w", err)
	}
	res := &storesResult{}
	var pages []tools.ListIncidentsOutput
	for i, tok := range []string{x, y, x} {
		a := &agent{name: "pager", tenant: "acme", token: tok, kind: kindModern, base: c.nginx, heard: map[string]int{}}
		if err := a.connect(ctx, false); err != nil {
			return nil, fmt.Errorf("stores check: %w", err)
		}
		args := map[string]any{"limit": 3}
		if i == 1 {
			args["cursor"] = pages[0].NextCursor
		} else if i == 2 {
			args["limit"] = 6
		}
		out, err := callStructured[tools.ListIncidentsOutput](ctx, a.client(), "list_incidents", args)
		a.close()
		if err != nil {
			return nil, fmt.Errorf("stores check: list on %s: %w", upstream[tok], err)
		}
		pages = append(pages, out)
	}
	paged := slices.Concat(pages[0].Incidents, pages[1].Incidents)
	if len(paged) != 6 || !slices.EqualFunc(paged, pages[2].Incidents, func(a, b tools.IncidentRow) bool { return a.IncidentID == b.IncidentID }) {
		return nil, fmt.Errorf("stores check: two pages over %s and %s differ from one listing", upstream[x], upstream[y])
	}
	res.pagedOn = upstream[x] + " → " + upstream[y]
	logf("stores check: a cursor issued by %s paged on %s", upstream[x], upstream[y])

	ref, err := openIncident(ctx, c.api, skip)
	if err != nil {
		return nil, err
	}
	sw := &answerSwitch{token: y}
	tr, err := transport.NewStreamableHTTP(c.nginx+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + x}),
		transport.WithHTTPBasicClient(&http.Client{Transport: sw}), transport.WithHTTPLogger(quiet))
	if err != nil {
		return nil, err
	}
	cl := mcpclient.NewClient(tr, mcpclient.WithElicitationHandler(accept{}))
	defer cl.Close()
	if err := cl.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "replicas-test closer", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := cl.Initialize(ctx, init); err != nil {
		return nil, err
	}
	marker := "Closed across replicas " + fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	args := map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID,
		"status": "Closed", "classification": "BenignPositive", "classificationReason": "SuspiciousButExpected", "comment": marker}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "update_status", args
	out, err := cl.CallTool(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("stores check: close %s: %w", ref.IncidentID, err)
	}
	if out.IsError {
		return nil, fmt.Errorf("stores check: close %s: %s", ref.IncidentID, resultText(out))
	}
	if len(sw.answers) != 1 {
		return nil, fmt.Errorf("stores check: %d answers sent, want 1", len(sw.answers))
	}
	res.askedOn, res.answeredOn = upstream[x], upstream[y]
	// Sent again to both replicas, the answer sends nothing (update_status
	// reads the incident first: "already Closed", or "already submitted").
	for _, tok := range []string{x, y} {
		body, err := sw.resend(ctx, c.nginx, tok)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(body, `"isError":true`) || !strings.Contains(body, "already") {
			return nil, fmt.Errorf("stores check: the answer sent again to %s: %.300s", upstream[tok], body)
		}
	}
	api, err := emulatorClient(c.api)
	if err != nil {
		return nil, err
	}
	comments, err := api.ListComments(ctx, ref)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, cm := range comments {
		if strings.Contains(cm.Message, marker) {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("stores check: the closing comment is in incident %s %d times, want 1", ref.IncidentID, n)
	}
	logf("stores check: a closure asked by %s and answered on %s was sent once; the answer sent again sent nothing", upstream[x], upstream[y])
	return res, nil
}

// openIncident is an open incident of the owner workspace not in skip.
func openIncident(ctx context.Context, apiURL string, skip []client.IncidentRef) (client.IncidentRef, error) {
	api, err := emulatorClient(apiURL)
	if err != nil {
		return client.IncidentRef{}, err
	}
	page, err := api.ListIncidents(ctx, client.IncidentFilter{Statuses: []client.Status{client.StatusNew, client.StatusActive}}, client.PageToken{})
	if err != nil {
		return client.IncidentRef{}, err
	}
	for _, row := range page.Incidents {
		ref := client.IncidentRef{WorkspaceID: row.WorkspaceID, Source: row.Source, IncidentID: row.ID}
		if row.WorkspaceID == emulator.WorkspaceOwnerID && !slices.Contains(skip, ref) {
			return ref, nil
		}
	}
	return client.IncidentRef{}, fmt.Errorf("no open incident left in the owner workspace")
}

// callStructured calls a tool and decodes its structured result.
func callStructured[T any](ctx context.Context, c *mcpclient.Client, name string, args map[string]any) (T, error) {
	var v T
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.CallTool(cctx, req)
	if err != nil {
		return v, err
	}
	if res.IsError {
		return v, fmt.Errorf("%s", resultText(res))
	}
	raw, _ := json.Marshal(res.StructuredContent)
	return v, json.Unmarshal(raw, &v)
}

// accept confirms every question.
type accept struct{}

func (accept) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	res := &mcp.ElicitationResult{}
	res.Action, res.Content = mcp.ElicitationResponseActionAccept, map[string]any{"confirm": true}
	return res, nil
}

// answerSwitch sends the calls carrying an answer (inputResponses) with
// another token of the tenant, which nginx hashes to another replica, and
// keeps them to send again.
type answerSwitch struct {
	token   string
	mu      sync.Mutex
	answers [][]byte
	headers http.Header
}

func (s *answerSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Method != http.MethodPost {
		return http.DefaultTransport.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	out := r.Clone(r.Context())
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if bytes.Contains(body, []byte(`"inputResponses"`)) {
		out.Header.Set("Authorization", "Bearer "+s.token)
		s.mu.Lock()
		s.answers, s.headers = append(s.answers, body), out.Header.Clone()
		s.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(out)
}

// resend sends the first answer again through nginx with token.
func (s *answerSwitch) resend(ctx context.Context, base, token string) (string, error) {
	s.mu.Lock()
	body, hdr := s.answers[0], s.headers.Clone()
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header = hdr
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), err
}
