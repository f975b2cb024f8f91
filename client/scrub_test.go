package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A secret with characters that every encoding changes.
const (
	scrubID     = "0c0c0c0c-1d1d-4e2e-8f3f-5a5a5a5a5a5a"
	scrubSecret = `cf_sa/Zq8+vN3=kP0&w"Lr5 Yt2%41~`
)

// leakForms are the forms of a credential that must never survive
// scrubbing: the secret, its base64 and the Basic value, and their
// URL-encoded forms, each as a test would search for it (independently of
// how the scrubber builds its needles).
func leakForms(id, secret string) map[string]string {
	basic := base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
	return map[string]string{
		"secret":            secret,
		"base64 secret":     base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64url secret":  base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"basic":             basic,
		"query-escaped":     url.QueryEscape(secret),
		"path-escaped":      url.PathEscape(secret),
		"escaped basic":     url.QueryEscape(basic),
		"base64 core (1)":   base64Core(base64.RawStdEncoding, secret, 1),
		"base64 core (2)":   base64Core(base64.RawStdEncoding, secret, 2),
		"secret first half": secret[:len(secret)/2],
	}
}

// percentAll percent-encodes every byte, lower-case hex.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02x", s[i])
	}
	return b.String()
}

// mixed encodes s byte by byte in turn as itself, %XX, \u00XX and &#xXX;.
func mixed(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch i % 4 {
		case 0:
			b.WriteByte(s[i])
		case 1:
			fmt.Fprintf(&b, "%%%02X", s[i])
		case 2:
			fmt.Fprintf(&b, `\u%04x`, s[i])
		default:
			fmt.Fprintf(&b, "&#x%x;", s[i])
		}
	}
	return b.String()
}

func TestScrubberFindsEveryForm(t *testing.T) {
	s := newScrubber(scrubID, Secret(scrubSecret))
	basic := base64.StdEncoding.EncodeToString([]byte(scrubID + ":" + scrubSecret))
	half := len(scrubSecret) / 2
	echoes := map[string]string{
		"raw":                     scrubSecret,
		"basic header":            "Authorization: Basic " + basic,
		"basic, URL-safe":         base64.URLEncoding.EncodeToString([]byte(scrubID + ":" + scrubSecret)),
		"base64 of the secret":    base64.StdEncoding.EncodeToString([]byte(scrubSecret)),
		"base64, no padding":      base64.RawStdEncoding.EncodeToString([]byte(scrubSecret)),
		"base64 inside, align 1":  base64.StdEncoding.EncodeToString([]byte("x" + scrubSecret + "yz")),
		"base64 inside, align 2":  base64.StdEncoding.EncodeToString([]byte("xy" + scrubSecret + "z")),
		"base64 url inside":       base64.RawURLEncoding.EncodeToString([]byte("token=" + scrubSecret)),
		"query-escaped":           "https://proxy.example/login?next=" + url.QueryEscape(scrubSecret),
		"path-escaped":            "/" + url.PathEscape(scrubSecret) + "/",
		"percent, lower-case hex": percentAll(scrubSecret),
		"escaped basic header":    "auth=Basic%20" + url.QueryEscape(basic),
		"json escapes":            jsonEscapeAll(scrubSecret),
		"html decimal":            htmlEscapeAll(scrubSecret),
		"html named":              strings.ReplaceAll(strings.ReplaceAll(scrubSecret, "&", "&amp;"), `"`, "&quot;"),
		"mixed encodings":         mixed(scrubSecret),
		"twice percent-encoded":   url.QueryEscape(url.QueryEscape(scrubSecret)),
		"html of percent":         strings.ReplaceAll(url.QueryEscape(scrubSecret), "%", "&#37;"),
		"json-escaped basic":      fmt.Sprintf(`Basic \u%04x`, basic[0]) + basic[1:],
		"json body, raw %41":      strings.ReplaceAll(scrubSecret, `"`, `\"`),
		"split by zero-width":     scrubSecret[:half] + "\u200b" + scrubSecret[half:],
		"split by invalid UTF-8":  scrubSecret[:half] + "\xff" + scrubSecret[half:],
		"split by &shy;":          scrubSecret[:half] + "&shy;" + scrubSecret[half:],
		"twice, side by side":     scrubSecret + scrubSecret,
	}
	for name, echo := range echoes {
		t.Run(name, func(t *testing.T) {
			text := "before " + echo + " after"
			got := s.string(text)
			for form, needle := range leakForms(scrubID, scrubSecret) {
				if needle != "" && strings.Contains(got, needle) {
					t.Errorf("the %s survives: %q", form, got)
				}
			}
			// Decoded the way an error's text may be decoded later, it
			// still holds nothing.
			for _, dec := range []func(string) string{
				func(v string) string { u, _ := url.QueryUnescape(v); return u },
				func(v string) string { d, _, _ := decodeLayer(v); return d },
			} {
				if d := dec(got); strings.Contains(d, scrubSecret) || strings.Contains(d, scrubSecret[:half]) {
					t.Errorf("decoded, it shows the secret: %q", d)
				}
			}
			if !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") || !strings.Contains(got, redacted) {
				t.Errorf("the text around the secret is not kept as it was: %q", got)
			}
		})
	}
	// Text without the credential is returned as it is.
	for _, clean := range []string{"HTTP 404 NOT_FOUND: Incident &amp; comments %41 \\u0041", "cf_sa/Zq8", basic[:5]} {
		if got := s.string(clean); got != clean {
			t.Errorf("clean text changed: %q → %q", clean, got)
		}
	}
}

// A server text is scrubbed before any cut: the cut of a long detail (500
// runes in the sentence) must not leave the start of a secret behind.
func TestScrubbedBeforeCut(t *testing.T) {
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, enc := range []struct {
		name   string
		detail func(pad string) string // the JSON string of the detail
	}{
		{"raw", func(pad string) string { return quote(pad + scrubSecret) }},
		{"html entities", func(pad string) string { return quote(pad + htmlEscapeAll(scrubSecret)) }},
		{"json escapes", func(pad string) string { return `"` + pad + jsonEscapeAll(scrubSecret) + `"` }},
	} {
		for _, at := range []int{490, 495, 498} {
			t.Run(fmt.Sprintf("%s at %d", enc.name, at), func(t *testing.T) {
				body := `{"status":400,"code":"BAD_REQUEST","detail":` + enc.detail(strings.Repeat("d", at)) + `}`
				c, _, _ := newTestClient(t, errorServer(400, "application/problem+json", body),
					func(c *Config) { c.ClientID, c.ClientSecret = scrubID, scrubSecret })
				_, err := c.GetIncident(context.Background(), testRef, false)
				if err == nil {
					t.Fatal("no error")
				}
				msg := err.Error()
				if !strings.Contains(msg, "ddd") {
					t.Fatalf("the detail is not in the sentence: %q", msg)
				}
				for n := 4; n <= len(scrubSecret); n++ {
					if strings.Contains(msg, scrubSecret[:n]) {
						t.Fatalf("the cut left %d bytes of the secret: %q", n, msg[max(0, len(msg)-80):])
					}
				}
			})
		}
	}
}

// Every error path built from an answer, whatever its status and content
// type, headers included, reaches the caller scrubbed.
func TestEveryErrorPathIsScrubbed(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(scrubID + ":" + scrubSecret))
	echo := func(r *http.Request) string {
		return "auth " + r.Header.Get("Authorization") + " b64 " + base64.StdEncoding.EncodeToString([]byte(scrubSecret)) +
			" q " + url.QueryEscape(scrubSecret) + " entity " + htmlEscapeAll(scrubSecret)
	}
	cases := map[string]struct {
		handler http.HandlerFunc
		op      func(*Client) error
	}{
		"2xx html on a read": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><title>Sign in %s</title><body>%s</body></html>", echo(r), echo(r))
		}, func(c *Client) error { _, err := c.GetIncident(context.Background(), testRef, false); return err }},
		"2xx text on a comment": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, echo(r))
		}, func(c *Client) error {
			_, _, err := c.AddComment(context.Background(), testRef, AddCommentRequest{Content: "x"})
			return err
		}},
		"2xx JSON of the wrong shape, secret in a key": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"data":{"incident":{"%s":1,"status":{"%s":1}}}}`, scrubSecret, url.QueryEscape(scrubSecret))
		}, func(c *Client) error { _, err := c.GetIncident(context.Background(), testRef, false); return err }},
		"redirect echoing in Location": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://login.example/?auth="+url.QueryEscape(r.Header.Get("Authorization")))
			w.WriteHeader(http.StatusFound)
		}, func(c *Client) error { _, err := c.ListUsers(context.Background()); return err }},
		"request id echoing the secret": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"status":404,"code":"NOT_FOUND"}`)
		}, func(c *Client) error { _, err := c.ListUsers(context.Background()); return err }},
		"content type echoing the secret": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/x-"+base64.RawURLEncoding.EncodeToString([]byte(scrubSecret)))
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "no")
		}, func(c *Client) error { _, err := c.ListUsers(context.Background()); return err }},
		"gateway 503 on a comment": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "<html><title>%s</title></html>", echo(r))
		}, func(c *Client) error {
			_, _, err := c.AddComment(context.Background(), testRef, AddCommentRequest{Content: "x"})
			return err
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _, _ := newTestClient(t, tc.handler, func(c *Config) { c.ClientID, c.ClientSecret, c.MaxAttempts = scrubID, scrubSecret, 2 })
			err := tc.op(c)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if e, ok := AsAPIError(err); ok {
				msg += " " + e.Error() + " " + e.RequestID + " " + e.Detail
			}
			for form, needle := range leakForms(scrubID, scrubSecret) {
				if needle != "" && strings.Contains(msg, needle) {
					t.Errorf("the %s reached the error: %q", form, msg)
				}
			}
			if strings.Contains(msg, basic[:20]) {
				t.Errorf("the Basic value reached the error: %q", msg)
			}
		})
	}
}
