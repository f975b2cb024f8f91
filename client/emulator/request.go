package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf16"

	"github.com/contraforce/contraforce-mcp/client"
)

// maxBodyBytes bounds request bodies (a comment is at most 30,000 characters).
const maxBodyBytes = 1 << 20

// maxCommentChars is the longest comment, in UTF-16 code units as .NET counts
// string length.
const maxCommentChars = 30000

// decodeBody reads the request's JSON object into v. Unknown members are
// ignored (as ASP.NET's System.Text.Json does by default). On failure it
// answers 400 (BAD_REQUEST for a missing or malformed body, VALIDATION_ERROR
// for a member of the wrong JSON type) and returns false.
func (e *Emulator) decodeBody(w http.ResponseWriter, r *http.Request, c *call, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		detail := "The request body could not be read."
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			detail = fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes)
		}
		e.writeProblem(w, c, problem{status: http.StatusBadRequest, code: client.CodeBadRequest, detail: detail})
		return false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		e.writeProblem(w, c, problem{status: http.StatusBadRequest, code: client.CodeBadRequest,
			detail: "A non-empty JSON request body is required."})
		return false
	}
	err = json.Unmarshal(data, v)
	if err == nil {
		return true
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		errs := fieldErrors{}
		errs.add(te.Field, "The JSON value %s could not be converted: expected %s.", te.Value, jsonKind(te.Type.Kind().String()))
		e.writeProblem(w, c, validationProblem(errs))
		return false
	}
	detail := "The request body is not valid JSON."
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		detail = fmt.Sprintf("The request body is not valid JSON: %v (at byte %d).", se, se.Offset)
	} else if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		detail = "The request body must be a JSON object."
	}
	e.writeProblem(w, c, problem{status: http.StatusBadRequest, code: client.CodeBadRequest, detail: detail})
	return false
}

// jsonKind names the JSON type that a Go kind decodes from.
func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// enumType is implemented by the enumerations of package client.
type enumType[T any] interface {
	~string
	Valid() bool
	Values() []T
}

// allowed lists an enumeration's values for an error message.
func allowed[T enumType[T]]() string { return strings.Join(client.EnumStrings[T](), ", ") }

// checkEnum records a field error if v is not one of its type's values.
func checkEnum[T enumType[T]](errs fieldErrors, key, what string, v T) {
	if !v.Valid() {
		errs.add(key, "%q is not a valid %s; allowed: %s.", string(v), what, allowed[T]())
	}
}

// checkEnums checks every element of a list, keyed "name[i]".
func checkEnums[T enumType[T]](errs fieldErrors, key, what string, vs []T) {
	for i, v := range vs {
		checkEnum(errs, fmt.Sprintf("%s[%d]", key, i), what, v)
	}
}

// textLength is a string's length as the vendor (.NET) counts it.
func textLength(s string) int {
	n := 0
	for _, r := range s { // invalid UTF-8 ranges as U+FFFD: one unit
		n += utf16.RuneLen(r)
	}
	return n
}
