package syncengine

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
)

// HardwareID identifies this machine to the central server: MSUPPLY_HARDWARE_ID when set (tests,
// containers), else a digest of the machine ID, else of the host name.
func HardwareID(getenv func(string) string) string {
	if id := strings.TrimSpace(getenv("MSUPPLY_HARDWARE_ID")); id != "" {
		return id
	}
	for _, path := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return digest("machine-id:" + strings.TrimSpace(string(b)))
		}
	}
	host, _ := os.Hostname()
	return digest("hostname:" + host)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte("msupply-sync hardware id\x00" + s))
	return hex.EncodeToString(sum[:16])
}
