package reports

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ParseSigningKey reads an Ed25519 private key as OpenSSL writes it
// (`openssl genpkey -algorithm ed25519`): PEM "PRIVATE KEY" (PKCS #8), or
// the same DER bytes in base64 on one line, which fits an environment
// variable better. The error never repeats the key.
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	der, err := keyDER(s, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("not a PKCS #8 private key")
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %s key, not Ed25519", keyKind(k))
	}
	return priv, nil
}

// ParsePublicKey reads an Ed25519 public key as OpenSSL writes it
// (`openssl pkey -pubout`): PEM "PUBLIC KEY" (SubjectPublicKeyInfo), or
// the same DER bytes in base64.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	der, err := keyDER(s, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a SubjectPublicKeyInfo public key")
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %s key, not Ed25519", keyKind(k))
	}
	return pub, nil
}

func keyDER(s, block string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, errors.New("malformed PEM")
		}
		if b.Type != block {
			return nil, fmt.Errorf("PEM block %q, want %q", b.Type, block)
		}
		return b.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("neither PEM (-----BEGIN %s-----) nor base64", block)
	}
	return der, nil
}

func keyKind(k any) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", k), "*")
}

// KeyFingerprint names a public key in messages: "sha256:" and the first
// 16 hex digits of the SHA-256 of its 32 raw bytes (`openssl pkey -pubin
// -in pub.pem -outform DER | tail -c 32 | sha256sum` gives the same).
func KeyFingerprint(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(s[:8])
}
