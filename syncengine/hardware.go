package syncengine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
)

// MaxHardwareIDLength bounds a hardware ID. Real ones are UUIDs or digests; the server stores the ID and
// every table of sites shows it, so one of any length would bloat both.
const MaxHardwareIDLength = 200

// ErrBadHardwareID says what a hardware ID must be.
var ErrBadHardwareID = errors.New("a hardware ID must be 1 to 200 printable ASCII characters")

// ValidateHardwareID refuses a hardware ID that is empty, longer than MaxHardwareIDLength, or holds
// anything but printable ASCII, which is what a header and a table cell can carry unchanged.
func ValidateHardwareID(id string) error {
	if id == "" || len(id) > MaxHardwareIDLength {
		return ErrBadHardwareID
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return ErrBadHardwareID
		}
	}
	return nil
}

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
