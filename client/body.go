package client

import (
	"bytes"
	"io"
	"sync"
)

// readBuffers hold answers while they are read. A list page is hundreds
// of KiB, usually sent without a Content-Length (chunked); reading it with
// io.ReadAll allocates about twice its size in growing chunks on every
// call. Reading into a pooled buffer and copying out once allocates the
// answer's exact size and nothing else.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a rare huge answer from pinning its buffer.
const maxPooledBuffer = 4 << 20

// readAll reads r to its end, up to limit bytes, and returns what it read
// in a slice of its exact size.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	buf := readBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	out := bytes.Clone(buf.Bytes())
	if buf.Cap() <= maxPooledBuffer {
		readBuffers.Put(buf)
	}
	if out == nil {
		out = []byte{}
	}
	return out, err
}
