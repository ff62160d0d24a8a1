package syncengine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/msupply-foundation/msupply-sync/secret"
)

// TestHardwareIDIsBounded: a hardware ID is at most 200 printable characters. The server refuses a longer
// one with a v5 error before binding it to the site, and the client refuses to send one.
func TestHardwareIDIsBounded(t *testing.T) {
	n := newTestNet(t)
	n.addSite("North", "north-password")
	for _, tt := range []struct {
		name, id string
	}{
		{"30000 characters", strings.Repeat("x", 30000)},
		{"one past the bound", strings.Repeat("h", MaxHardwareIDLength+1)},
		{"a tab", "device\tone"},
		{"not ASCII", "appareil-é"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, n.http.URL+PathSite, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth("North", secret.PasswordDigest("north-password"))
			req.Header.Set(HeaderHardwareID, tt.id)
			req.Header.Set(HeaderVersion, "14")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var eb ErrorBody
			if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &eb) != nil || eb.Error.Code != CodeInvalidRequest ||
				!strings.Contains(eb.Error.Message, "msupply-site-uuid header must be 1 to 200 printable ASCII characters") {
				t.Errorf("got %d %.300s, want 400 invalid_request naming the bound", resp.StatusCode, body)
			}
			if _, err := NewClient(ClientConfig{ServerURL: n.http.URL, SiteName: "North", HardwareID: tt.id}); err == nil {
				t.Error("the client accepted the hardware ID")
			}
		})
	}
	site, err := n.central.FindSite(context.Background(), "North")
	if err != nil || site.HardwareID != "" {
		t.Fatalf("North is bound to %.50q (%v); nothing should have bound it", site.HardwareID, err)
	}
	if _, err := NewClient(ClientConfig{ServerURL: n.http.URL, SiteName: "North", HardwareID: strings.Repeat("h", MaxHardwareIDLength)}); err != nil {
		t.Errorf("a hardware ID at the bound was refused: %v", err)
	}
}
