package demosite

import (
	"errors"
	"fmt"
	"math"
)

// ErrCatalogSize is the error of a synthetic catalogue size out of range.
var ErrCatalogSize = errors.New("demosite: synthetic catalogue size out of range")

// MaxSynthetic bounds a synthetic catalogue: a page of ids is cheap, but
// the catalogue lives in the server's memory (~200 B a product).
const MaxSynthetic = 200_000

// PageSize is how many products a page of a large catalogue lists: a
// listing page, the home page's and a product page's candidates.
const PageSize = 24

// Synthetic returns a store of n products made from the demo store's own,
// for measuring Tailor on a large catalogue (issue 12): each category of
// the demo gets a share of n in proportion to its products, and each
// product is a variant of one of the category's own (its name numbered,
// its tags and colour, its price within ±25%), so the images, rules and
// simulated personas of the demo apply unchanged. Ids are "sku" and six
// digits, the length of a shop's numeric SKU. Products are grouped by
// category, in order; articles and banners are the demo's. The same n
// gives the same catalogue.
func Synthetic(n int) (*Catalog, error) {
	if n < 1 || n > MaxSynthetic {
		return nil, fmt.Errorf("%w: %d, need 1-%d", ErrCatalogSize, n, MaxSynthetic)
	}
	base, err := Load()
	if err != nil {
		return nil, err
	}
	var cats []string
	by := map[string][]Product{}
	for _, p := range base.Products {
		if by[p.Category] == nil {
			cats = append(cats, p.Category)
		}
		by[p.Category] = append(by[p.Category], p)
	}
	c := &Catalog{Products: make([]Product, 0, n), Articles: base.Articles, Banners: base.Banners}
	// Each category's share, the remainder to the first ones: every
	// category keeps at least one product when n allows.
	share := make([]int, len(cats))
	left := n
	for i, cat := range cats {
		share[i] = n * len(by[cat]) / len(base.Products)
		left -= share[i]
	}
	for i := 0; left > 0; i = (i + 1) % len(cats) {
		share[i]++
		left--
	}
	for i, cat := range cats {
		models := by[cat]
		for j := 0; j < share[i]; j++ {
			m := &models[j%len(models)]
			id := len(c.Products) + 1
			c.Products = append(c.Products, Product{
				ID:       fmt.Sprintf("sku%06d", id),
				Name:     fmt.Sprintf("%s No. %d", m.Name, j/len(models)+1),
				Category: cat,
				Tags:     m.Tags,
				Price:    variedPrice(m.Price, uint32(id)),
				Color:    m.Color,
			})
		}
	}
	c.index()
	return c, nil
}

// variedPrice returns a price within ±25% of p, ending in .99, drawn from
// id's hash so the same product always costs the same.
func variedPrice(p float32, id uint32) float32 {
	h := id * 2654435761 // Knuth's multiplicative hash
	f := 0.75 + 0.5*float64(h>>8)/float64(1<<24)
	return float32(math.Max(1, math.Floor(float64(p)*f)) - 0.01)
}

// Large reports whether the catalogue is too large to list whole on a page:
// then pages list PageSize products (see Store).
func (c *Catalog) Large() bool { return len(c.Products) > 4*PageSize }

// Near returns up to n products of p's category nearest to it in catalogue
// order (the next ones first, then the previous ones): a large catalogue's
// "You may also like", the product's own line.
func (c *Catalog) Near(p *Product, n int) []Product {
	in := c.ByCategory(p.Category)
	at, ok := c.pos[p.ID]
	if !ok || at >= len(in) || in[at].ID != p.ID {
		return nil
	}
	out := make([]Product, 0, n)
	for d := 1; len(out) < n && (at+d < len(in) || at-d >= 0); d++ {
		if at+d < len(in) {
			out = append(out, in[at+d])
		}
		if at-d >= 0 && len(out) < n {
			out = append(out, in[at-d])
		}
	}
	return out
}
