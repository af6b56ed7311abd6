package rules

import (
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// value returns a context or visitor field's value as text, and false for
// fields answered by the profile's facts (viewed.category, searched, ...).
func value(field string, p *profile.Profile, ctx *wire.Context) (string, bool) {
	if len(field) > 5 && field[:5] == "attr." {
		return p.Attr(field[5:]), true
	}
	if n, ok := number(field, p, ctx); ok {
		return itoa(int(n)), true
	}
	if len(field) < 4 || field[:4] != "ctx." {
		return "", false
	}
	switch field[4:] {
	case "device":
		return ctx.Device, true
	case "referrer":
		return ctx.Referrer, true
	case "page":
		return ctx.Page, true
	case "region":
		return ctx.Region, true
	}
	return "", true
}

// number returns a numeric field's value.
func number(field string, p *profile.Profile, ctx *wire.Context) (float32, bool) {
	switch field {
	case "ctx.hour":
		return float32(ctx.Hour), true
	case "ctx.month":
		return float32(ctx.Month), ctx.Month > 0
	case "ctx.weekday":
		return float32(ctx.Weekday), true
	case "visits":
		return float32(p.Visits), true
	}
	return 0, false
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
