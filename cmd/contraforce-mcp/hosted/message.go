package hosted

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mark3labs/mcp-go/mcp"
)

// The gate decides about a message (which session it names, which protocol
// era it speaks, whether it is an initialize or a client's result) before
// mcp-go reads it again. Both read with encoding/json, but the same bytes
// can still be read two ways: a duplicate key is merged into a map by one
// reader and replaces a value for another (mcp.Meta's UnmarshalJSON); a
// struct field matches "Params" or "paramſ" while a map lookup does not; a
// decoder that stops after the first value (mcp-go's SSE handler) ignores
// what follows it. So the gate refuses, with 400 and a JSON-RPC error,
// every message that is not plainly one JSON-RPC object, and reads the rest
// through mcp-go's own types (mcp.Meta, mcp.InitializeRequest).

// maxDepth bounds the nesting of a message. MCP messages are shallow (tool
// arguments are flat objects); the bound keeps the check's memory small.
const maxDepth = 64

// JSON-RPC error codes of a refused message.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeInvalidParams  = -32602
)

// messageError is a message the gate refuses: its JSON-RPC code and a
// sentence saying what to send instead.
type messageError struct {
	code int
	msg  string
}

func (e *messageError) Error() string { return e.msg }

func badMessage(code int, format string, args ...any) error {
	return &messageError{code: code, msg: fmt.Sprintf(format, args...)}
}

// members are the names a reader of each level looks up, by their folded
// form. A key spelt differently but equal under encoding/json's case
// folding ("Method", "paramſ") is matched by a struct and missed by a map:
// two readings.
var members = map[level]map[string]string{
	levelMessage: foldTable("jsonrpc", "id", "method", "params", "result", "error"),
	levelParams:  foldTable("_meta", "name", "arguments", "protocolVersion", "capabilities", "clientInfo", "uri"),
}

// foldTable maps each name's folded form to its spelling.
func foldTable(names ...string) map[string]string {
	t := make(map[string]string, len(names))
	for _, n := range names {
		t[fold(n)] = n
	}
	return t
}

// level is where an object sits in a message.
type level int

const (
	levelOther level = iota
	levelMessage
	levelParams
)

// checkJSON refuses a body that is not exactly one JSON object, or that
// could be read two ways: invalid UTF-8 or an unpaired surrogate escape
// (readers replace or keep them), two keys of one object that are equal
// under case folding (duplicates: the last wins, or they merge), a case
// variant of a protocol member, nesting beyond maxDepth, or anything after
// the object.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return badMessage(codeParseError, "the body is not valid UTF-8")
	}
	if err := checkEscapes(body); err != nil {
		return err
	}
	type frame struct {
		object bool
		level  level
		key    bool   // an object expects a key next
		last   string // the object's last key
		keys   map[string]struct{}
	}
	// Tokens are read with jsontext (encoding/json/v2's tokenizer): every
	// request passes here, and it reads a message several times faster
	// than encoding/json's Decoder.Token. Repeated names are let through
	// to checkKey, which also catches those that differ in case.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true))
	var stack []*frame
	started := false
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			if !started {
				return badMessage(codeParseError, "the body is empty; send one JSON-RPC message")
			}
			return nil
		}
		if err != nil {
			return badMessage(codeParseError, "the body is not valid JSON: %v", err)
		}
		kind := tok.Kind()
		if len(stack) == 0 {
			if started {
				return badMessage(codeParseError, "the body holds more than one JSON value; send one JSON-RPC message")
			}
			started = true
			if kind != '{' {
				return badMessage(codeInvalidRequest, "the body must be one JSON-RPC message object (batches are not part of MCP)")
			}
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if kind == '"' && top != nil && top.object && top.key {
			key := tok.String()
			f := fold(key)
			if err := checkKey(top.keys, top.level, key, f); err != nil {
				return err
			}
			top.keys[f] = struct{}{}
			top.last, top.key = key, false
			continue
		}
		switch kind {
		case '{', '[':
			if len(stack) == maxDepth {
				return badMessage(codeInvalidRequest, "the message nests deeper than %d levels", maxDepth)
			}
			f := &frame{object: kind == '{', key: true}
			switch {
			case top == nil:
				f.level = levelMessage
			case top.object && top.level == levelMessage && top.last == "params":
				f.level = levelParams
			}
			if f.object {
				f.keys = map[string]struct{}{}
			}
			stack = append(stack, f)
			continue
		case '}', ']':
			stack = stack[:len(stack)-1]
		}
		// A value ended: its object expects the next key.
		if len(stack) > 0 {
			stack[len(stack)-1].key = true
		}
	}
}

// checkKey refuses a key that repeats one of its object (under folding), or
// a case variant of a member of its level. f is fold(key).
func checkKey(keys map[string]struct{}, lv level, key, f string) error {
	if _, dup := keys[f]; dup {
		return badMessage(codeInvalidRequest, "the key %s appears twice in one object (or in two spellings that differ only in case); send each key once", quoteKey(key))
	}
	if m, ok := members[lv][f]; ok && key != m {
		return badMessage(codeInvalidRequest, "the key %s must be spelt %q", quoteKey(key), m)
	}
	return nil
}

// fold is encoding/json's case folding of object keys: each rune is
// replaced by the smallest rune of its simple-fold orbit, so that
// fold(x) == fold(y) exactly when strings.EqualFold(x, y).
func fold(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// quoteKey quotes a key for an error message, clipped.
func quoteKey(k string) string {
	if len(k) > 64 {
		k = k[:64] + "…"
	}
	return strconv.QuoteToASCII(k)
}

// checkEscapes refuses a \u escape of a lone UTF-16 surrogate, which
// encoding/json decodes to U+FFFD and other readers keep or refuse. The
// body is known to be UTF-8; its JSON validity is checked after.
func checkEscapes(body []byte) error {
	in := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\' && i+1 < len(body):
			i++
			if body[i] != 'u' {
				continue
			}
			r, ok := hex4(body, i+1)
			if !ok {
				continue // invalid JSON: the decoder says so
			}
			i += 4
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return badMessage(codeParseError, "the body escapes an unpaired UTF-16 surrogate (\\u%04x)", r)
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := rune(0), i+6 < len(body) && body[i+1] == '\\' && body[i+2] == 'u'
				if ok {
					lo, ok = hex4(body, i+3)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return badMessage(codeParseError, "the body escapes an unpaired UTF-16 surrogate (\\u%04x)", r)
				}
				i += 6
			}
		}
	}
	return nil
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	return rune(v), err == nil
}

// readMessage is the gate's one reading of a JSON-RPC body. It refuses
// (with a *messageError) what checkJSON refuses, a member of the wrong
// type, a message that is neither a request, a notification nor a
// response, and an initialize mcp-go could not parse (mcp-go would answer
// it with an error and still keep the session it created for it).
func readMessage(body []byte) (envelope, error) {
	if err := checkJSON(body); err != nil {
		return envelope{}, err
	}
	var m struct {
		JSONRPC json.RawMessage `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  json.RawMessage `json:"method"`
		Params  json.RawMessage `json:"params"`
		Result  json.RawMessage `json:"result"`
		Error   json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return envelope{}, badMessage(codeParseError, "the body is not valid JSON: %v", err)
	}
	var env envelope
	if string(m.JSONRPC) != `"2.0"` {
		return env, badMessage(codeInvalidRequest, `"jsonrpc" must be "2.0"`)
	}
	switch kindOf(m.ID) {
	case 0:
	case '"', '0':
		env.ID = m.ID
	default:
		return env, badMessage(codeInvalidRequest, `"id" must be a string or a number`)
	}
	if m.Method != nil {
		if kindOf(m.Method) != '"' {
			return env, badMessage(codeInvalidRequest, `"method" must be a string`)
		}
		_ = json.Unmarshal(m.Method, &env.Method)
		if env.Method == "" {
			return env, badMessage(codeInvalidRequest, `"method" must not be empty`)
		}
	}
	for _, member := range []struct {
		name string
		raw  json.RawMessage
	}{{"params", m.Params}, {"result", m.Result}, {"error", m.Error}} {
		if member.raw != nil && kindOf(member.raw) != '{' {
			return env, badMessage(codeInvalidRequest, "%q must be an object", member.name)
		}
	}
	switch {
	case env.Method != "":
		if m.Result != nil || m.Error != nil {
			return env, badMessage(codeInvalidRequest, `a request or notification carries no "result" or "error"`)
		}
	case env.ID != nil && (m.Result != nil) != (m.Error != nil):
		if m.Params != nil {
			return env, badMessage(codeInvalidRequest, `a response carries no "params"`)
		}
		env.response = true
	default:
		return env, badMessage(codeInvalidRequest, `a message is a request ("method" and "id"), a notification ("method") or a response ("id" and one of "result" or "error")`)
	}
	if m.Params != nil {
		if err := readParams(&env, m.Params); err != nil {
			return env, err
		}
	}
	if env.Method == string(mcp.MethodToolsCall) {
		// The tool's name as mcp-go's tools/call handler decodes it (the
		// OAuth scope check needs it).
		var call mcp.CallToolRequest
		if err := json.Unmarshal(body, &call); err != nil {
			return env, badMessage(codeInvalidParams, "the tools/call params are malformed: %v", err)
		}
		env.Tool = call.Params.Name
	}
	if env.Method == string(mcp.MethodInitialize) {
		if env.ID == nil {
			return env, badMessage(codeInvalidRequest, "initialize is a request: give it an id")
		}
		// The very decoding mcp-go's initialize handler does.
		var init mcp.InitializeRequest
		if err := json.Unmarshal(body, &init); err != nil {
			return env, badMessage(codeInvalidParams, "the initialize params are malformed: %v", err)
		}
	}
	return env, nil
}

// readParams reads params._meta through mcp.Meta, the type both of mcp-go's
// readers of the protocol era use, refusing a _meta or a protocol version
// of the wrong type.
func readParams(env *envelope, params json.RawMessage) error {
	var p struct {
		Meta json.RawMessage `json:"_meta"`
	}
	_ = json.Unmarshal(params, &p) // an object, checked
	if p.Meta == nil {
		return nil
	}
	if kindOf(p.Meta) != '{' {
		return badMessage(codeInvalidParams, `"params._meta" must be an object`)
	}
	var meta mcp.Meta
	if err := json.Unmarshal(p.Meta, &meta); err != nil {
		return badMessage(codeInvalidParams, `"params._meta" is malformed: %v`, err)
	}
	if v, ok := meta.AdditionalFields[mcp.MetaKeyProtocolVersion]; ok {
		if _, isString := v.(string); !isString {
			return badMessage(codeInvalidParams, "%q must be a string", "params._meta."+mcp.MetaKeyProtocolVersion)
		}
	}
	env.Version = meta.ProtocolVersion()
	return nil
}

// kindOf is the kind of a raw JSON value: 0 when absent, '{', '[', '"',
// 't' (true), 'f' (false), 'n' (null) or '0' (a number).
func kindOf(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	default:
		return '0'
	}
}
