package hosted

import "testing"

// The SSE writer counts the answers to a session's pending requests (a
// graceful shutdown waits for them): an event is an answer when it holds an
// id and a result or an error, and no method.
func TestIsAnswerEvent(t *testing.T) {
	for event, want := range map[string]bool{
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"method\\\":1}\"}]}}\n\n": true,
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-32602,\"message\":\"bad\"}}\n\n":                            true,
		"event: message\ndata: {\"result\":{},\"jsonrpc\":\"2.0\",\"id\":null}\n\n":                                                               true,
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"id\":1,\"result\":2}}\n\n":                 false,
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"elicitation/create\",\"params\":{}}\n\n":                                false,
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"result\":{}}\n\n":                                                                           false,
		"event: endpoint\ndata: /message?sessionId=abc\n\n":                                                                                       false,
		": keep-alive\n\n": false,
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\n\n": true,
	} {
		if got := isAnswerEvent([]byte(event)); got != want {
			t.Errorf("isAnswerEvent(%q) = %v, want %v", event, got, want)
		}
	}
}
