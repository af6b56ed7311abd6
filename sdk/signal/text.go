package signal

// ASCII text helpers: the guest avoids package strings, whose Unicode tables
// every visitor would download. Bytes above 127 count as letters, so UTF-8
// words stay whole (unlowered).

// words splits s into lower-cased words of letters and digits.
func words(s string) []string {
	var out []string
	start := -1
	b := []byte(s)
	for i := 0; i <= len(b); i++ {
		if i < len(b) && isWord(b[i]) {
			if b[i] >= 'A' && b[i] <= 'Z' {
				b[i] += 'a' - 'A'
			}
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, string(b[start:i]))
			start = -1
		}
	}
	return out
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c > 127
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
