package conformance

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// omClient makes requests exactly as open-mSupply's v5 client does (server/service/src/sync/api/core.rs):
// the site's uuid, app and version headers, HTTP Basic auth with the lowercase hex SHA-256 of the password,
// POST bodies with no Content-Type, and gzip accepted. Answers are decoded as it decodes them.
type omClient struct {
	t        *testing.T
	base     string
	site     string
	password string
	uuid     string
	http     *http.Client
}

func newOMClient(t *testing.T, base, site, password, uuid string) *omClient {
	// Compression is asked for and undone here, not by the transport, so that a gzipped answer is seen.
	return &omClient{t: t, base: base, site: site, password: password, uuid: uuid,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}}
}

func (c *omClient) digest() string {
	sum := sha256.Sum256([]byte(c.password))
	return hex.EncodeToString(sum[:])
}

// call sends a v5 request and decodes a 200 answer into out; any other status fails the test with the
// v5 error body.
func (c *omClient) call(method, path string, body, out any) (gzipped bool) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("msupply-site-uuid", c.uuid)
	req.Header.Set("app-version", "2.9.0")
	req.Header.Set("app-name", "Open mSupply Desktop")
	req.Header.Set("version", "14")
	req.Header.Set("Accept-Encoding", "gzip")
	req.SetBasicAuth(c.site, c.digest())
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			c.t.Fatalf("%s %s: gzip: %v", method, path, err)
		}
		r, gzipped = gz, true
	}
	data, err := io.ReadAll(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(out); err != nil {
			c.t.Fatalf("%s %s: the answer %.300s does not decode as open-mSupply reads it: %v", method, path, data, err)
		}
	}
	return gzipped
}

// v6 makes one of the three calls to the open-mSupply central server URL, JSON with the v5 credentials
// in the body, as open-mSupply's api_v6/core.rs does; out receives the "data" of the answer.
func (c *omClient) v6(url, route string, body map[string]any, out any) {
	c.t.Helper()
	body["syncV5Settings"] = map[string]any{"serverUrl": c.base, "username": c.site, "passwordSha256": c.digest(),
		"siteUuid": c.uuid, "appVersion": "2.9.0", "appName": "Open mSupply Desktop", "syncVersion": "14"}
	body["syncV6Version"] = 5
	b, _ := json.Marshal(body)
	if !strings.HasSuffix(url, "/") {
		c.t.Fatalf("the v6 URL %q does not end in a slash: open-mSupply joins central/sync/ to it", url)
	}
	resp, err := c.http.Post(url+"central/sync/"+route, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("v6 %s: %v", route, err)
	}
	defer resp.Body.Close()
	var answer struct {
		Data  json.RawMessage `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Data == nil {
		c.t.Fatalf("v6 %s: %v, error %s", route, err, answer.Error)
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		c.t.Fatalf("v6 %s: %s: %v", route, answer.Data, err)
	}
}

// waitIdle polls site_status as open-mSupply does after initialise and after its final push, until the
// server says idle.
func (c *omClient) waitIdle(every time.Duration, tries int) {
	c.t.Helper()
	for range tries {
		var st struct {
			Code    string  `json:"code"`
			Message *string `json:"message"`
		}
		c.call("GET", "/sync/v5/site_status", nil, &st)
		if st.Message == nil {
			c.t.Fatal("site_status message is null; open-mSupply reads it as a string")
		}
		if st.Code == "idle" {
			return
		}
		time.Sleep(every)
	}
	c.t.Fatalf("site_status never said idle")
}

func must(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}
