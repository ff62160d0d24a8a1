package secret

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestPasswordDigest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"password": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
	} {
		if got := PasswordDigest(in); got != want {
			t.Errorf("PasswordDigest(%q) = %s, want %s", in, got, want)
		}
	}
}

// cheapHash builds an argon2id hash in HashSecret's format with small parameters, so that tests of the
// parser do not pay for a full-strength hash each time.
func cheapHash(secret string, salt []byte, mem, time uint32, threads uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(secret), salt, time, mem, threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, mem, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestHash(t *testing.T) {
	t.Parallel()
	const secret = "the-secret-1"
	one, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	two, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	if one == two {
		t.Error("two hashes of one secret are equal: the salt is not random")
	}
	if !strings.HasPrefix(one, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(one, secret) {
		t.Errorf("hash = %q", one)
	}
	for _, h := range []string{one, two} {
		if !Verify(h, secret) {
			t.Errorf("Verify(%q, secret) = false", h)
		}
		if Verify(h, secret+"x") || Verify(h, "") {
			t.Error("Verify accepted a wrong secret")
		}
	}
}

func TestVerifyRejectsBadHashes(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-value"
	salt := []byte("0123456789abcdef")
	good := cheapHash(secret, salt, 64, 1, 1, 32)
	if !Verify(good, secret) {
		t.Fatalf("Verify refused a well-formed hash with its own parameters: %s", good)
	}
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	flipped := []byte(parts[5])
	if flipped[3] == 'A' {
		flipped[3] = 'B'
	} else {
		flipped[3] = 'A'
	}
	b64 := base64.RawStdEncoding
	for _, tc := range []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"garbage", "not a hash at all"},
		{"dollars only", "$$$$$"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"unknown version", with(2, "v=16")},
		{"no version", with(2, "v=")},
		{"missing field", strings.Join(parts[:5], "$")},
		{"extra field", good + "$extra"},
		{"tampered key", with(5, string(flipped))},
		{"other salt", with(4, b64.EncodeToString([]byte("fedcba9876543210")))},
		{"no parameters", with(3, "")},
		{"zero memory", with(3, "m=0,t=1,p=1")},
		{"zero time", with(3, "m=64,t=0,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"negative memory", with(3, "m=-64,t=1,p=1")},
		{"threads overflow", with(3, "m=64,t=1,p=256")},
		{"huge memory", with(3, "m=4294967295,t=1,p=1")},
		{"just above the memory bound", with(3, fmt.Sprintf("m=%d,t=1,p=1", 1<<20+1))},
		{"too many passes", with(3, "m=64,t=17,p=1")},
		{"bad salt encoding", with(4, "!!!")},
		{"bad key encoding", with(5, "###")},
		{"empty key", with(5, "")},
		{"key too long", with(5, b64.EncodeToString(bytes.Repeat([]byte{1}, 129)))},
		{"padded base64", with(5, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0")))},
		{"whitespace", " " + good},
		{"truncated", good[:len(good)-10]},
		{"nul bytes", strings.ReplaceAll(good, "$", "\x00")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if Verify(tc.hash, secret) {
				t.Errorf("Verify accepted %q", tc.hash)
			}
		})
	}
	// Other parameters are honoured, not assumed.
	for _, p := range []struct {
		mem, time uint32
		threads   uint8
		keyLen    uint32
	}{{8, 1, 1, 16}, {128, 3, 2, 64}, {64, 1, 1, 128}} {
		h := cheapHash(secret, salt, p.mem, p.time, p.threads, p.keyLen)
		if !Verify(h, secret) || Verify(h, secret+"!") {
			t.Errorf("parameters %+v not honoured: %s", p, h)
		}
	}
}
