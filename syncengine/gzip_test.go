package syncengine

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func gzipOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// encodingRecorder wraps the test server's handler: it notes the Content-Encoding of every POST body and,
// when hideGzip is set, takes the gzip advertisement off the answers, as a server that reads only plain
// bodies would not send it.
type encodingRecorder struct {
	next     http.Handler
	hideGzip bool
	mu       sync.Mutex
	posts    []string
}

func (e *encodingRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == "POST" {
		e.mu.Lock()
		e.posts = append(e.posts, r.URL.Path+" "+r.Header.Get("Content-Encoding"))
		e.mu.Unlock()
	}
	if e.hideGzip {
		w = &hideAcceptEncoding{w}
	}
	e.next.ServeHTTP(w, r)
}

type hideAcceptEncoding struct{ http.ResponseWriter }

func (h *hideAcceptEncoding) WriteHeader(code int) {
	h.Header().Del("Accept-Encoding")
	h.ResponseWriter.WriteHeader(code)
}

func (h *hideAcceptEncoding) Write(b []byte) (int, error) {
	h.Header().Del("Accept-Encoding")
	return h.ResponseWriter.Write(b)
}

// TestPushesAreGzippedWhereTheServerReadsThem: a remote gzips its pushes to a server that advertises it
// reads gzipped bodies, and the records arrive whole; to a server that does not, it pushes plain JSON.
func TestPushesAreGzippedWhereTheServerReadsThem(t *testing.T) {
	for _, advertised := range []bool{true, false} {
		t.Run(fmt.Sprintf("advertised=%v", advertised), func(t *testing.T) {
			n := newTestNet(t)
			rec := &encodingRecorder{next: n.http.Config.Handler, hideGzip: !advertised}
			n.http.Config.Handler = rec
			n.addSite("North", "north-password")
			north := n.newRemote("North", "north-password", "hw-north")
			north.sync(t)
			store := n.stores["North-store"].ID
			var lines []string
			for i := range 50 {
				lines = append(lines, fmt.Sprintf(`{"id":"stock-%d","store_id":%q,"item_id":"item-1","batch":"B%d","quantity":%d}`, i, store, i, i+1))
			}
			n.put(north.db, "stock_line", "["+strings.Join(lines, ",")+"]")
			north.sync(t)
			var pushes []string
			for _, p := range rec.posts {
				if strings.HasPrefix(p, PathQueuedRecords+" ") {
					pushes = append(pushes, p)
				}
			}
			want := PathQueuedRecords + " "
			if advertised {
				want += "gzip"
			}
			if len(pushes) == 0 || pushes[0] != want {
				t.Fatalf("pushes went as %q, want %q", pushes, want)
			}
			sameChecksums(t, "North's stock after the push", checksum(t, north.db, "North-store"), checksum(t, n.central, "North-store"), "stock_line")
		})
	}
}

// TestGzippedBodiesAreBoundedAndChecked: a gzipped body is read as what it inflates to, which is bounded
// as a plain body is; a body that is not the gzip it claims, or in an encoding the server does not read,
// is refused with its own error.
func TestGzippedBodiesAreBoundedAndChecked(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	bomb := gzipOf(t, append([]byte(`{"data":[`), bytes.Repeat([]byte(" "), MaxRequestBody+10)...))
	if len(bomb) > MaxRequestBody/100 {
		t.Fatalf("the bomb is %d bytes gzipped, not small", len(bomb))
	}
	tests := []struct {
		name, encoding string
		body           []byte
		status         int
		code           string
	}{
		{"gzipped push", "gzip", gzipOf(t, []byte(`{"queueLength":0,"data":[]}`)), 200, ""},
		{"gzipped acknowledgement", "gzip", gzipOf(t, []byte(`{"syncIDs":[]}`)), 204, ""},
		{"encoding named in capitals", "GZIP", gzipOf(t, []byte(`{"queueLength":0,"data":[]}`)), 200, ""},
		{"inflates past the limit", "gzip", bomb, 413, CodeRequestTooLarge},
		{"not gzip at all", "gzip", []byte(`{"queueLength":0,"data":[]}`), 400, CodeInvalidRequest},
		{"gzip cut short", "gzip", gzipOf(t, []byte(`{"queueLength":0,"data":[]}`))[:20], 400, CodeInvalidRequest},
		{"gzipped but not JSON", "gzip", gzipOf(t, []byte(`queueLength=0`)), 400, CodeInvalidRequest},
		{"an encoding the server does not read", "br", []byte(`{"queueLength":0,"data":[]}`), 415, CodeUnsupportedEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := PathQueuedRecords
			if strings.Contains(tt.name, "acknowledgement") {
				path = PathAcknowledgedRecords
			}
			status, eb, data := n.do(t, rawCall{method: "POST", path: path, user: "North", password: "north-password",
				hardware: "hw-1", body: tt.body, encoding: tt.encoding})
			if status != tt.status || eb.Error.Code != tt.code {
				t.Fatalf("got %d %q (%.200s), want %d %q", status, eb.Error.Code, data, tt.status, tt.code)
			}
		})
	}
}

// TestEveryAnswerSaysGzippedBodiesAreRead: the advertisement is on every answer, errors included, so a
// client learns it from whichever request it makes first.
func TestEveryAnswerSaysGzippedBodiesAreRead(t *testing.T) {
	n := newTestNet(t)
	for _, path := range []string{PathSite, "/healthz", "/no-such-path"} {
		resp, err := http.Get(n.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Accept-Encoding"); got != "gzip" {
			t.Errorf("%s answered %d with Accept-Encoding %q, want gzip", path, resp.StatusCode, got)
		}
	}
}
