package hosted

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`

func TestReadMessageAccepts(t *testing.T) {
	tests := []struct {
		body string
		want envelope
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"assign","arguments":{"a":1,"b":{"a":2}}}}`,
			envelope{Method: "tools/call", ID: json.RawMessage("1")}},
		{` {"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n", envelope{Method: "notifications/initialized"}},
		{`{"jsonrpc":"2.0","id":"x","result":{}}`, envelope{ID: json.RawMessage(`"x"`), response: true}},
		{`{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}`, envelope{ID: json.RawMessage(`3`), response: true}},
		{`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + modernMeta + `}}`,
			envelope{Method: "tools/list", ID: json.RawMessage("2"), Version: "2026-07-28"}},
		{`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
			envelope{Method: "initialize", ID: json.RawMessage("1")}},
		// Escapes that decode to distinct keys, and a surrogate pair.
		{`{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"\u00e9":1,"e":2,"\ud83d\ude00":3}}}`,
			envelope{Method: "x", ID: json.RawMessage("1")}},
	}
	for _, tt := range tests {
		got, err := readMessage([]byte(tt.body))
		if err != nil {
			t.Errorf("%s: refused: %v", tt.body, err)
			continue
		}
		if got.Method != tt.want.Method || string(got.ID) != string(tt.want.ID) || got.response != tt.want.response || got.Version != tt.want.Version {
			t.Errorf("%s: %+v, want %+v", tt.body, got, tt.want)
		}
	}
}

// TestReadMessageRefuses: every message that two readers could read
// differently, or that is not one JSON-RPC message, is refused with the
// JSON-RPC code that says why.
func TestReadMessageRefuses(t *testing.T) {
	tests := []struct {
		name, body string
		code       int
	}{
		{"empty", ``, codeParseError},
		{"not JSON", `not json`, codeParseError},
		{"a number", `5`, codeInvalidRequest},
		{"a batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, codeInvalidRequest},
		{"two messages", `{"jsonrpc":"2.0","id":1,"method":"ping"} {"jsonrpc":"2.0","id":2,"method":"tools/call"}`, codeParseError},
		{"a message and junk", `{"jsonrpc":"2.0","id":1,"method":"ping"}]`, codeParseError},
		{"truncated", `{"jsonrpc":"2.0","id":1,"method":"ping"`, codeParseError},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"arguments\":{\"a\":\"\xff\"}}}", codeParseError},
		{"lone high surrogate", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"a":"\ud800"}}}`, codeParseError},
		{"lone low surrogate", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"\udc00":1}}}`, codeParseError},
		{"duplicate _meta (the merge attack)", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` + modernMeta + `,"_meta":{}}}`, codeInvalidRequest},
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, codeInvalidRequest},
		{"duplicate params", `{"jsonrpc":"2.0","id":1,"method":"x","params":{},"params":{}}`, codeInvalidRequest},
		{"duplicate deep in arguments", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"a":[{"b":1,"b":2}]}}}`, codeInvalidRequest},
		{"duplicate by escape", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{},"\u005fmeta":{}}}`, codeInvalidRequest},
		{"duplicate by case", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"_META":{},"_meta":{}}}`, codeInvalidRequest},
		{"duplicate by Kelvin sign", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"k":1,"\u212a":2}}}`, codeInvalidRequest},
		{"case variant of method", `{"jsonrpc":"2.0","id":1,"Method":"ping"}`, codeInvalidRequest},
		{"long-s variant of params", `{"jsonrpc":"2.0","id":1,"method":"x","param\u017f":{}}`, codeInvalidRequest},
		{"case variant of _meta", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"_Meta":{}}}`, codeInvalidRequest},
		{"no jsonrpc", `{"id":1,"method":"ping"}`, codeInvalidRequest},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, codeInvalidRequest},
		{"id null", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, codeInvalidRequest},
		{"id an object", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, codeInvalidRequest},
		{"method a number", `{"jsonrpc":"2.0","id":1,"method":5}`, codeInvalidRequest},
		{"method empty", `{"jsonrpc":"2.0","id":1,"method":""}`, codeInvalidRequest},
		{"params an array", `{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}`, codeInvalidRequest},
		{"params null", `{"jsonrpc":"2.0","id":1,"method":"x","params":null}`, codeInvalidRequest},
		{"_meta a number", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":5}}`, codeInvalidParams},
		{"_meta null", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":null}}`, codeInvalidParams},
		{"protocol version a number", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":20260728}}}`, codeInvalidParams},
		{"result on a request", `{"jsonrpc":"2.0","id":1,"method":"x","result":{}}`, codeInvalidRequest},
		{"response with params", `{"jsonrpc":"2.0","id":1,"result":{},"params":{` + modernMeta + `}}`, codeInvalidRequest},
		{"response with result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, codeInvalidRequest},
		{"result not an object", `{"jsonrpc":"2.0","id":1,"result":5}`, codeInvalidRequest},
		{"neither method nor id", `{"jsonrpc":"2.0"}`, codeInvalidRequest},
		{"initialize without id", `{"jsonrpc":"2.0","method":"initialize","params":{}}`, codeInvalidRequest},
		{"initialize, clientInfo name a number", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":5,"version":"1"}}}`, codeInvalidParams},
		{"initialize, capabilities a string", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":"all"}}`, codeInvalidParams},
		{"too deep", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"arguments":{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}}`, codeInvalidRequest},
	}
	for _, tt := range tests {
		_, err := readMessage([]byte(tt.body))
		var me *messageError
		if !errors.As(err, &me) {
			t.Errorf("%s: accepted (%v)", tt.name, err)
			continue
		}
		if me.code != tt.code {
			t.Errorf("%s: code %d (%s), want %d", tt.name, me.code, me.msg, tt.code)
		}
		if tt.name == "two messages" && !strings.Contains(me.msg, "more than one JSON value") {
			t.Errorf("two messages: %q does not say what is wrong", me.msg)
		}
	}
}

// mcpGoReadings reads a body as mcp-go v1.2.1 does, in each place it
// reads one: the streamable POST handler, the era detection (transport and
// server), HandleMessage's base message, and the SSE message handler.
func mcpGoReadings(body []byte) (method string, hasID, response bool, version string, sseSame bool, ok bool) {
	var post struct {
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result,omitempty"`
		Error  json.RawMessage `json:"error,omitempty"`
		Method mcp.MCPMethod   `json:"method,omitempty"`
	}
	if json.Unmarshal(body, &post) != nil {
		return "", false, false, "", false, false
	}
	var era struct {
		Params struct {
			Meta *mcp.Meta `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &era) == nil {
		version = era.Params.Meta.ProtocolVersion()
	}
	var base struct {
		JSONRPC string        `json:"jsonrpc"`
		Method  mcp.MCPMethod `json:"method"`
		ID      any           `json:"id,omitempty"`
	}
	if json.Unmarshal(body, &base) != nil || base.Method != post.Method {
		return "", false, false, "", false, false
	}
	var raw json.RawMessage
	sseSame = json.NewDecoder(bytes.NewReader(body)).Decode(&raw) == nil && bytes.Equal(raw, bytes.TrimSpace(body))
	response = post.Method == "" && post.ID != nil && (post.Result != nil || post.Error != nil)
	return string(post.Method), base.ID != nil, response, version, sseSame, true
}

// FuzzReadMessageIsMCPGosReading: whatever the gate accepts, each of
// mcp-go's readers reads the same method, id, kind and protocol era.
func FuzzReadMessageIsMCPGosReading(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` + modernMeta + `,"_meta":{}}}`,
		`{"jsonrpc":"2.0","id":1,"result":{},"params":{` + modernMeta + `}}`,
		`{"jsonrpc":"2.0","id":1,"method":"x","params":{"_META":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
		`{"jsonrpc":"2.0","id":"a","error":{"code":1}}`,
		`{"jsonrpc":"2.0","method":"n","params":{"_meta":{"progressToken":1}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"a"}{"jsonrpc":"2.0","id":1,"method":"b"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := readMessage(body)
		if err != nil {
			return
		}
		method, hasID, response, version, sseSame, ok := mcpGoReadings(body)
		if !ok || method != env.Method || hasID != (env.ID != nil) || response != env.response || version != env.Version || !sseSame {
			t.Fatalf("two readings of %q: gate %+v; mcp-go method %q id %v response %v version %q sse %v ok %v",
				body, env, method, hasID, response, version, sseSame, ok)
		}
	})
}
