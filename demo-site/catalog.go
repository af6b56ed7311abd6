// Package demosite is Tailor's demo store: a fashion & sports shop whose
// catalogue also drives the simulated visitors that seed its model.
package demosite

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/tailorhq/tailor/sdk/wire"
)

//go:embed catalog.json
var catalogJSON []byte

// Product is a catalogue entry: a product, an article or a banner.
type Product struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Tags     []string `json:"tags"`
	Price    float32  `json:"price"`
	Color    string   `json:"color"`
	Body     string   `json:"body,omitempty"`
}

// Item returns the product as the loader describes it to the guest.
func (p *Product) Item() wire.Item {
	return wire.Item{ID: p.ID, Category: p.Category, Tags: p.Tags, Price: p.Price}
}

// Catalog is the whole store.
type Catalog struct {
	Products []Product `json:"products"`
	Articles []Product `json:"articles"`
	Banners  []Product `json:"banners"`

	// Built by index (Load, Synthetic): a large catalogue's lookups by id
	// and category are map reads, not scans; a Catalog built otherwise
	// scans.
	ids  map[string]*Product
	cats map[string][]Product
	pos  map[string]int // a product's place in its category
}

// index builds the catalogue's lookups.
func (c *Catalog) index() {
	c.ids = map[string]*Product{}
	c.cats = map[string][]Product{}
	c.pos = map[string]int{}
	for _, list := range [][]Product{c.Banners, c.Articles, c.Products} { // the first of an id wins, as Find's scan
		for i := len(list) - 1; i >= 0; i-- {
			c.ids[list[i].ID] = &list[i]
		}
	}
	for _, p := range c.Products {
		c.pos[p.ID] = len(c.cats[p.Category])
		c.cats[p.Category] = append(c.cats[p.Category], p)
	}
}

// Load returns the demo store's catalogue.
func Load() (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(catalogJSON, &c); err != nil {
		return nil, fmt.Errorf("demosite: catalog.json: %w", err)
	}
	c.index()
	return &c, nil
}

// ByCategory returns the products of a category, in catalogue order.
func (c *Catalog) ByCategory(category string) []Product {
	if c.cats != nil {
		ps := c.cats[category]
		return ps[:len(ps):len(ps)] // an append copies
	}
	var out []Product
	for _, p := range c.Products {
		if p.Category == category {
			out = append(out, p)
		}
	}
	return out
}

// Recommended returns the products in the site's default order of the home
// page's "Recommended for you" slot (home-recs): one category at a time.
// The simulated shoppers rank the same candidates in the same order.
func (c *Catalog) Recommended() []Product { return interleave(c.Products) }

// AlsoLike returns the site's default "You may also like" (the also-like
// slot) of a product's page: the other products of its category first,
// then the rest, one category at a time.
func (c *Catalog) AlsoLike(p *Product) []Product {
	var same, rest []Product
	for _, o := range c.Products {
		switch {
		case o.ID == p.ID:
		case o.Category == p.Category:
			same = append(same, o)
		default:
			rest = append(rest, o)
		}
	}
	return append(same, interleave(rest)...)
}

// Find returns the product, article or banner with the id, or nil.
func (c *Catalog) Find(id string) *Product {
	if c.ids != nil {
		return c.ids[id]
	}
	for _, list := range [][]Product{c.Products, c.Articles, c.Banners} {
		for i := range list {
			if list[i].ID == id {
				return &list[i]
			}
		}
	}
	return nil
}
