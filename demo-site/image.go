package demosite

import (
	"fmt"
	"html"
	"net/http"
)

// image serves a simple SVG picture of a product: a coloured card with a
// shape for its category and its name, so the store needs no image files.
func (s *Store) image(w http.ResponseWriter, r *http.Request) {
	p := s.catalog.Find(r.PathValue("id"))
	if p == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 180" role="img" aria-label="%s">`+
		`<rect width="240" height="180" rx="12" fill="%s"/>%s`+
		`<text x="120" y="166" font-family="sans-serif" font-size="12" fill="#fff" text-anchor="middle">%s</text></svg>`,
		html.EscapeString(p.Name), html.EscapeString(p.Color), shape(p.Category), html.EscapeString(p.Name))
}

// shape returns an SVG figure for a category.
func shape(category string) string {
	const fill = `fill="rgba(255,255,255,0.85)"`
	switch category {
	case "evening-gowns", "office-dresses":
		return `<path d="M105 30h30l8 30-14 10 34 80H77l34-80-14-10z" ` + fill + `/>`
	case "metallic-heels", "running-shoes":
		return `<path d="M60 110c30 0 50-30 70-40l30 40h30v20H60z" ` + fill + `/>`
	case "clutches":
		return `<rect x="70" y="60" width="100" height="60" rx="10" ` + fill + `/>`
	case "jewelry":
		return `<circle cx="120" cy="80" r="40" fill="none" stroke="#fff" stroke-width="8"/>`
	case "gps-watches":
		return `<rect x="100" y="30" width="40" height="110" rx="8" ` + fill + `/><circle cx="120" cy="85" r="28" fill="#333"/>`
	case "energy-gels", "coffee-beans", "coffee-filters":
		return `<rect x="85" y="40" width="70" height="100" rx="6" ` + fill + `/>`
	case "winter-coats", "sweaters", "blouses", "running-apparel", "beachwear":
		return `<path d="M90 35l30 15 30-15 35 30-20 20-10-8v73H85V77l-10 8-20-20z" ` + fill + `/>`
	case "sunglasses":
		return `<circle cx="90" cy="85" r="25" ` + fill + `/><circle cx="150" cy="85" r="25" ` + fill + `/>`
	case "coffee-machines":
		return `<rect x="80" y="35" width="80" height="105" rx="8" ` + fill + `/><rect x="105" y="95" width="30" height="30" fill="#5d4037"/>`
	case "running-socks":
		return `<path d="M100 30h35v70l25 25-20 20-40-35z" ` + fill + `/>`
	}
	return `<circle cx="120" cy="80" r="45" ` + fill + `/>`
}
