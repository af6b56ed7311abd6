package demosite

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Script is how the store's pages load Tailor: the loader's URL and its
// subresource-integrity hash (empty when unknown).
type Script struct {
	Src       string
	Integrity string
}

// Store serves the demo store's pages. Pages are rendered on the server
// with the site's default order; Tailor reorders their slots in the
// browser.
//
// # Notes
//
// A Store is goroutine-safe once built.
type Store struct {
	catalog *Catalog
	script  func() Script
	site    string
	pages   *template.Template
	static  http.Handler
}

// NewStore returns the store for site key site; its pages load Tailor
// from where script says at the time of the request (the server knows the
// loader's content-hashed name once its assets are built).
func NewStore(script func() Script, site string) (*Store, error) {
	c, err := Load()
	if err != nil {
		return nil, err
	}
	pages, err := template.New("").Funcs(template.FuncMap{
		"join":  func(s []string) string { return strings.Join(s, ",") },
		"price": func(p float32) string { return fmt.Sprintf("€%.2f", p) },
		"title": categoryTitle,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("demosite: templates: %w", err)
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	return &Store{catalog: c, script: script, site: site, pages: pages,
		static: http.StripPrefix("/static/", http.FileServerFS(sub))}, nil
}

// Catalog returns the store's catalogue.
func (s *Store) Catalog() *Catalog { return s.catalog }

// Handler returns the store's pages as one handler.
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	return mux
}

// Register adds the store's routes to mux.
func (s *Store) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /p/{id}", s.product)
	mux.HandleFunc("GET /a/{id}", s.article)
	mux.HandleFunc("GET /c/{category}", s.category)
	mux.HandleFunc("GET /search", s.search)
	mux.HandleFunc("GET /cart", s.cart)
	mux.HandleFunc("GET /img/{id}", s.image)
	mux.Handle("GET /static/", s.static)
}

// page is what every template gets.
type page struct {
	Title    string
	Kind     string // data-tailor-page
	Script   Script
	Site     string
	Store    *Catalog
	Item     *Product
	Products []Product
	Articles []Product
	Banners  []Product
	Picks    []Product // the store's own picks on the home page, the same for everyone
	Query    string
	Heading  string
	Nav      []string
}

var navCategories = []string{"evening-gowns", "office-dresses", "running-shoes", "gps-watches", "winter-coats", "beachwear", "coffee-machines"}

func (s *Store) render(w http.ResponseWriter, name string, p page) {
	p.Script, p.Site, p.Store, p.Nav = s.script(), s.site, s.catalog, navCategories
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if err := s.pages.ExecuteTemplate(w, name, p); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

func (s *Store) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, "home.html", page{Title: "Tailor demo store", Kind: "home",
		Products: s.catalog.Recommended(), Articles: s.catalog.Articles, Banners: s.catalog.Banners,
		Picks: s.picks()})
}

// picks returns the home page's "Store picks": the first product of each
// category in the navigation. They are not a slot, so every visitor sees
// them, whatever they clicked before: a visitor whose recommendations all
// follow one interest can still turn to another on the same page (a click
// on a pick re-ranks the slots, as any click on an item does).
func (s *Store) picks() []Product {
	var out []Product
	for _, c := range navCategories {
		if ps := s.catalog.ByCategory(c); len(ps) > 0 {
			out = append(out, ps[0])
		}
	}
	return out
}

func (s *Store) product(w http.ResponseWriter, r *http.Request) {
	p := s.catalog.Find(r.PathValue("id"))
	if p == nil || p.Category == "articles" || p.Category == "banners" {
		http.NotFound(w, r)
		return
	}
	s.render(w, "product.html", page{Title: p.Name, Kind: "product", Item: p, Products: s.catalog.AlsoLike(p), Articles: s.catalog.Articles})
}

func (s *Store) article(w http.ResponseWriter, r *http.Request) {
	a := s.catalog.Find(r.PathValue("id"))
	if a == nil || a.Category != "articles" {
		http.NotFound(w, r)
		return
	}
	s.render(w, "article.html", page{Title: a.Name, Kind: "article", Item: a, Products: interleave(s.catalog.Products)})
}

func (s *Store) category(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("category")
	ps := s.catalog.ByCategory(c)
	if len(ps) == 0 {
		http.NotFound(w, r)
		return
	}
	s.render(w, "list.html", page{Title: categoryTitle(c), Kind: "category", Heading: categoryTitle(c), Products: ps})
}

func (s *Store) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var hits []Product
	for _, p := range s.catalog.Products {
		if q != "" && matches(&p, q) {
			hits = append(hits, p)
		}
	}
	s.render(w, "list.html", page{Title: "Search: " + q, Kind: "search", Query: q,
		Heading: fmt.Sprintf("%d results for “%s”", len(hits), q), Products: hits})
}

func (s *Store) cart(w http.ResponseWriter, r *http.Request) {
	s.render(w, "cart.html", page{Title: "Your cart", Kind: "cart", Products: interleave(s.catalog.Products)})
}

// interleave returns products one category at a time, round robin: the
// site's default order for mixed slots, so that no category dominates a
// page before Tailor knows anything.
func interleave(ps []Product) []Product {
	var cats []string
	by := map[string][]Product{}
	for _, p := range ps {
		if by[p.Category] == nil {
			cats = append(cats, p.Category)
		}
		by[p.Category] = append(by[p.Category], p)
	}
	out := make([]Product, 0, len(ps))
	for len(out) < len(ps) {
		for _, c := range cats {
			if len(by[c]) > 0 {
				out = append(out, by[c][0])
				by[c] = by[c][1:]
			}
		}
	}
	return out
}

// matches reports whether every word of q occurs in the product's name,
// category or tags.
func matches(p *Product, q string) bool {
	text := strings.ToLower(p.Name + " " + p.Category + " " + strings.Join(p.Tags, " "))
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, strings.TrimSuffix(w, "s")) {
			return false
		}
	}
	return true
}

func categoryTitle(c string) string {
	words := strings.Split(c, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
