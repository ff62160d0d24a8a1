package syncengine

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Records compress about six to one, and remote sites are often on slow, metered links, so the pages of
// records a remote pulls are gzipped when it says it accepts that (Go's HTTP client does by default, and
// undoes it transparently). BestSpeed keeps the server's cost small.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

type gzipResponseWriter struct {
	http.ResponseWriter
	zw *gzip.Writer
}

func (w *gzipResponseWriter) WriteHeader(code int) {
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipResponseWriter) Write(b []byte) (int, error) { return w.zw.Write(b) }

// gzipped runs h with a gzipping writer when the request accepts gzip.
func gzipped(h siteHandler) siteHandler {
	return func(w http.ResponseWriter, r *http.Request, site authenticatedSite) error {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			return h(w, r, site)
		}
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(w)
		defer gzipWriters.Put(zw)
		gw := &gzipResponseWriter{ResponseWriter: w, zw: zw}
		err := h(gw, r, site)
		if err != nil {
			// Nothing was written yet: the error goes out plain, through the caller.
			zw.Reset(nil)
			return err
		}
		return zw.Close()
	}
}

// Pushes are records too, and compress as well. A client may gzip a request body only where the server
// says it can read one: every answer carries "Accept-Encoding: gzip" (RFC 7694), which servers that do
// not read gzipped bodies never send, so a remote of ours still pushes plain JSON to them.

// advertiseGzip tells the client, on every answer, that request bodies may be gzipped.
func advertiseGzip(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Accept-Encoding", "gzip")
		next.ServeHTTP(w, r)
	})
}

// requestBody is the body of r as JSON, gunzipped when it came gzipped. What it inflates to is bounded as
// the body itself is, so a small gzipped body cannot make the server read gigabytes.
func requestBody(r *http.Request) (io.Reader, error) {
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return r.Body, nil
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, badRequest("request body is not valid gzip: %v", err)
		}
		return &inflateLimit{r: zr, left: MaxRequestBody}, nil
	default:
		return nil, &authFailure{http.StatusUnsupportedMediaType, CodeUnsupportedEncoding,
			"request body is encoded as " + enc + "; send it plain or gzipped (Content-Encoding: gzip)", nil}
	}
}

// inflateLimit reads at most left bytes of inflated body, then fails as an over-long plain body does.
type inflateLimit struct {
	r    io.Reader
	left int64
}

func (l *inflateLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more than allowed tells a body that ends exactly at the limit from one that goes on.
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &http.MaxBytesError{Limit: MaxRequestBody}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = badRequest("request body is not valid gzip: %v", err)
		}
	}
	return n, err
}

// gzipBytes compresses a request body, at the speed the server's answers are compressed with.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) / 4)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&out)
	zw.Write(b) // writes to a bytes.Buffer do not fail
	zw.Close()
	return out.Bytes()
}
