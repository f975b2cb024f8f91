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
	buf, err := readPooled(r, limit)
	out := bytes.Clone(buf.Bytes())
	putBuffer(buf)
	if out == nil {
		out = []byte{}
	}
	return out, err
}

// readPooled reads r to its end, up to limit bytes, into a pooled buffer;
// the caller gives it back with putBuffer once nothing refers to its bytes.
// A list call reads its page this way: the page is read and dropped within
// the call, and not copying it out saves the call a quarter-megabyte of
// garbage.
func readPooled(r io.Reader, limit int64) (*bytes.Buffer, error) {
	buf := readBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf, err
}

// putBuffer returns a buffer to the pool, unless it grew too large.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		readBuffers.Put(buf)
	}
}
