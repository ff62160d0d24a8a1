package syncengine

import (
	"compress/gzip"
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
