package demosite

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
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

// Option changes what a Store serves.
type Option func(*Store)

// WithCatalog serves c (Synthetic) instead of the demo's own catalogue.
// A large one (Catalog.Large) is served a page at a time: listing pages
// of PageSize products (?page=N), and PageSize candidates in the home
// page's, a product page's (its line, Catalog.Near) and the other pages'
// slots, so that no page lists the whole catalogue.
func WithCatalog(c *Catalog) Option { return func(s *Store) { s.catalog = c } }

// NewStore returns the store for site key site; its pages load Tailor
// from where script says at the time of the request (the server knows the
// loader's content-hashed name once its assets are built).
func NewStore(script func() Script, site string, opts ...Option) (*Store, error) {
	s := &Store{script: script, site: site}
	for _, o := range opts {
		o(s)
	}
	if s.catalog == nil {
		c, err := Load()
		if err != nil {
			return nil, err
		}
		s.catalog = c
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
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	// The embedded files carry no modification time, so no validator
	// either: without a max-age, every page view downloaded store.css
	// (which blocks rendering) and store.js again, beside Tailor's
	// requests. Five minutes, as server/api's tailor.js at its stable URL.
	s.static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(sub, strings.TrimPrefix(r.URL.Path, "/static/")); err == nil {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	})
	s.pages = pages
	return s, nil
}

// bound returns the first PageSize products of a large catalogue's list,
// the whole list otherwise.
func (s *Store) bound(ps []Product) []Product {
	if s.catalog.Large() && len(ps) > PageSize {
		return ps[:PageSize]
	}
	return ps
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
	Next     int // a large catalogue's listing: the next page's number, 0 for none
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
		Products: s.bound(s.catalog.Recommended()), Articles: s.catalog.Articles, Banners: s.catalog.Banners,
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
	also := s.catalog.AlsoLike
	if s.catalog.Large() {
		also = func(p *Product) []Product { return s.catalog.Near(p, PageSize/2) }
	}
	s.render(w, "product.html", page{Title: p.Name, Kind: "product", Item: p, Products: also(p), Articles: s.catalog.Articles})
}

func (s *Store) article(w http.ResponseWriter, r *http.Request) {
	a := s.catalog.Find(r.PathValue("id"))
	if a == nil || a.Category != "articles" {
		http.NotFound(w, r)
		return
	}
	s.render(w, "article.html", page{Title: a.Name, Kind: "article", Item: a, Products: s.bound(interleave(s.catalog.Products))})
}

func (s *Store) category(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("category")
	ps := s.catalog.ByCategory(c)
	if len(ps) == 0 {
		http.NotFound(w, r)
		return
	}
	p := page{Title: categoryTitle(c), Kind: "category", Heading: categoryTitle(c), Products: ps}
	if s.catalog.Large() {
		// A page at a time: ?page=N, from 1.
		n := 1
		if q := r.URL.Query().Get("page"); q != "" {
			var err error
			if n, err = strconv.Atoi(q); err != nil || n < 1 || (n-1)*PageSize >= len(ps) {
				http.NotFound(w, r)
				return
			}
		}
		p.Products = ps[(n-1)*PageSize : min(len(ps), n*PageSize)]
		if n*PageSize < len(ps) {
			p.Next = n + 1
		}
		if n > 1 {
			p.Title += fmt.Sprintf(" (page %d)", n)
		}
	}
	s.render(w, "list.html", p)
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
		Heading: fmt.Sprintf("%d results for “%s”", len(hits), q), Products: s.bound(hits)})
}

func (s *Store) cart(w http.ResponseWriter, r *http.Request) {
	s.render(w, "cart.html", page{Title: "Your cart", Kind: "cart", Products: s.bound(interleave(s.catalog.Products))})
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
