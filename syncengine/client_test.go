package syncengine

import (
	"strings"
	"testing"
)

// TestClientRefusesWhatTheServerURLMayNotHold: the client checks a server URL as init and prefs set do,
// so that one stored before the check existed is refused too, and never repeated with its password.
func TestClientRefusesWhatTheServerURLMayNotHold(t *testing.T) {
	for _, u := range []string{"https://north:s3cret@central.example.org", "https://central.example.org:99999", "http://:8080", "ftp://central.example.org"} {
		_, err := NewClient(ClientConfig{ServerURL: u, SiteName: "North", HardwareID: "hw-north"})
		if err == nil {
			t.Errorf("%s: accepted", u)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error repeats the password: %v", u, err)
		}
	}
	if _, err := NewClient(ClientConfig{ServerURL: "https://central.example.org:8443/base", SiteName: "North", HardwareID: "hw-north"}); err != nil {
		t.Errorf("a good URL was refused: %v", err)
	}
}
