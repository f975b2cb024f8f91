package main

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"unsafe"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// errorCodeHook gives a failed prompts/get or resources/read the JSON-RPC
// code the MCP specification gives it, where the failure is the caller's:
//
//   - prompts/get with a missing or invalid argument, or one naming no
//     incident (the prompts mark it mcp.ErrInvalidParams): -32602;
//   - resources/read of a URI naming no incident (the resources mark it
//     server.ErrResourceNotFound): -32002, or -32602 from protocol
//     2026-07-28 (SEP-2164), as mcp-go answers a URI matching no template.
//
// Why a hook, and why it writes a field it does not own: mcp-go v1.2.1
// answers every error a prompt or resource handler returns with -32603
// (internal error) and gives a handler no way to choose another code. It
// does run the OnError hooks on the very *requestError it encodes next,
// synchronously, on the request's goroutine; this hook sets that value's
// code. If a later mcp-go changes that value's shape, setErrorCode finds no
// int field "code" in server.requestError, changes nothing (the answer is
// -32603 as before) and logs one warning; TestProtocolErrorCodes fails.
func errorCodeHook(h *server.Hooks, log *slog.Logger) {
	var warn sync.Once
	h.AddOnError(func(ctx context.Context, _ any, method mcp.MCPMethod, _ any, err error) {
		code := 0
		switch {
		case method == mcp.MethodPromptsGet && errors.Is(err, mcp.ErrInvalidParams):
			code = mcp.INVALID_PARAMS
		case method == mcp.MethodResourcesRead && errors.Is(err, server.ErrResourceNotFound):
			code = mcp.RESOURCE_NOT_FOUND
			if mcp.IsModernProtocol(server.RequestProtocolVersion(ctx)) {
				code = mcp.INVALID_PARAMS
			}
		default:
			return
		}
		if !setErrorCode(err, code) {
			warn.Do(func() {
				log.Warn("cannot set the JSON-RPC code of a prompt or resource error: this mcp-go differs from v1.2.1; such errors keep -32603",
					"method", string(method))
			})
		}
	})
}

// setErrorCode sets the code of mcp-go's *server.requestError err to code
// if it is still -32603 (a handler's error), reporting whether err has the
// shape mcp-go v1.2.1 gives it.
func setErrorCode(err error, code int) bool {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	e := v.Elem()
	t := e.Type()
	if t.Kind() != reflect.Struct || t.Name() != "requestError" || t.PkgPath() != "github.com/mark3labs/mcp-go/server" {
		return false
	}
	f := e.FieldByName("code")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return false
	}
	field := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	if field.Int() == mcp.INTERNAL_ERROR {
		field.SetInt(int64(code))
	}
	return true
}
