package demosite

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestSynthetic(t *testing.T) {
	base, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 17, 1000, 40_000} {
		c, err := Synthetic(n)
		if err != nil {
			t.Fatalf("Synthetic(%d): %v", n, err)
		}
		if len(c.Products) != n {
			t.Errorf("Synthetic(%d): %d products", n, len(c.Products))
		}
		seen := map[string]bool{}
		cats := map[string]int{}
		for i, p := range c.Products {
			if seen[p.ID] || p.Name == "" || p.Price < 1 || len(p.ID) != 9 || c.Find(p.ID) != &c.Products[i] {
				t.Fatalf("Synthetic(%d): bad, duplicate or not found %+v", n, p)
			}
			seen[p.ID] = true
			if i > 0 && p.Category != c.Products[i-1].Category && cats[p.Category] > 0 {
				t.Fatalf("Synthetic(%d): category %s is not one block", n, p.Category)
			}
			cats[p.Category]++
		}
		if n >= len(base.Products) && len(cats) != len(categories(base)) {
			t.Errorf("Synthetic(%d): %d categories, want the demo's %d", n, len(cats), len(categories(base)))
		}
		if !reflect.DeepEqual(c.Articles, base.Articles) || !reflect.DeepEqual(c.Banners, base.Banners) {
			t.Errorf("Synthetic(%d): articles or banners differ from the demo's", n)
		}
	}
	a, _ := Synthetic(5000)
	b, _ := Synthetic(5000)
	if !reflect.DeepEqual(a.Products, b.Products) {
		t.Error("Synthetic(5000) twice: different catalogues")
	}
	for _, n := range []int{0, -1, MaxSynthetic + 1} {
		if _, err := Synthetic(n); !errors.Is(err, ErrCatalogSize) {
			t.Errorf("Synthetic(%d) = %v, want ErrCatalogSize", n, err)
		}
	}
}

// categories returns the catalogue's product categories, in order.
func categories(c *Catalog) []string {
	var out []string
	for _, p := range c.Products {
		if len(out) == 0 || out[len(out)-1] != p.Category {
			out = append(out, p.Category)
		}
	}
	return out
}

func TestNear(t *testing.T) {
	c, err := Synthetic(1000)
	if err != nil {
		t.Fatal(err)
	}
	line := c.ByCategory(c.Products[0].Category)
	ids := func(ps []Product) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	tests := []struct {
		at, n int
		want  []int // places in the line
	}{
		{0, 3, []int{1, 2, 3}},
		{5, 4, []int{6, 4, 7, 3}},
		{len(line) - 1, 2, []int{len(line) - 2, len(line) - 3}},
		{5, 0, nil},
	}
	for _, tt := range tests {
		var want []string
		for _, i := range tt.want {
			want = append(want, line[i].ID)
		}
		if got := ids(c.Near(&line[tt.at], tt.n)); !reflect.DeepEqual(got, want) {
			t.Errorf("Near(line[%d], %d) = %v, want %v", tt.at, tt.n, got, want)
		}
	}
	if got := c.Near(&Product{ID: "nope", Category: line[0].Category}, 3); got != nil {
		t.Errorf("Near of an unknown product = %v", got)
	}
}

// TestLargePages: a synthetic catalogue's store lists a page of products at
// a time, with a link to the next page, and a product page offers the
// product's line.
func TestLargePages(t *testing.T) {
	c, err := Synthetic(2000)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(func() Script { return Script{Src: "/tailor.abc.js"} }, "demo", WithCatalog(c))
	if err != nil {
		t.Fatal(err)
	}
	cat := c.Products[0].Category
	line := c.ByCategory(cat)
	pages := (len(line) + PageSize - 1) / PageSize
	tests := []struct {
		path   string
		status int
		items  int      // [data-tailor-item] cards
		want   []string // in the body
		not    []string
	}{
		{"/", 200, PageSize + 7 + len(c.Articles) + len(c.Banners), nil, nil},
		{"/c/" + cat, 200, PageSize, []string{`href="?page=2"`, line[0].ID, line[PageSize-1].ID}, []string{line[PageSize].ID}},
		{"/c/" + cat + "?page=2", 200, PageSize, []string{`href="?page=3"`, line[PageSize].ID}, []string{line[0].ID + `"`}},
		{"/c/" + cat + "?page=" + strconv.Itoa(pages), 200, len(line) - (pages-1)*PageSize, nil, []string{`rel="next"`}},
		{"/c/" + cat + "?page=" + strconv.Itoa(pages+1), 404, 0, nil, nil},
		{"/c/" + cat + "?page=0", 404, 0, nil, nil},
		{"/c/" + cat + "?page=x", 404, 0, nil, nil},
		{"/p/" + line[3].ID, 200, 1 + PageSize/2 + len(c.Articles), []string{line[4].ID, line[2].ID}, []string{line[3+PageSize/2].ID}},
		{"/search?q=gown", 200, PageSize, nil, nil},
		{"/cart", 200, PageSize, nil, nil},
		{"/img/" + line[3].ID, 200, 0, []string{"<svg"}, nil},
	}
	for _, tt := range tests {
		status, body := get(s.Handler(), tt.path)
		if status != tt.status {
			t.Errorf("GET %s: %d, want %d", tt.path, status, tt.status)
			continue
		}
		if n := strings.Count(body, "data-tailor-item="); tt.status == 200 && n != tt.items {
			t.Errorf("GET %s: %d items, want %d", tt.path, n, tt.items)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: no %q", tt.path, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(body, w) {
				t.Errorf("GET %s: %q", tt.path, w)
			}
		}
	}
}

// TestSmallPagesWhole: the demo's own catalogue is listed whole, as before
// pages existed: no page link, every product of a category.
func TestSmallPagesWhole(t *testing.T) {
	s, err := NewStore(func() Script { return Script{} }, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if s.Catalog().Large() {
		t.Fatal("the demo's own catalogue is Large")
	}
	status, body := get(s.Handler(), "/c/jewelry?page=7")
	if n := strings.Count(body, "data-tailor-item="); status != 200 || n != len(s.Catalog().ByCategory("jewelry")) || strings.Contains(body, `rel="next"`) {
		t.Errorf("GET /c/jewelry?page=7: %d, %d items", status, n)
	}
}
