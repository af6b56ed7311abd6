package wire

import "github.com/tailorhq/tailor/sdk/msgp"

// Kind is what a visitor did. The loader sends it as a string.
type Kind uint8

// Event kinds, in the order of how much interest they show.
const (
	KindPage     Kind = iota + 1 // a page view without an item
	KindView                     // an item seen on its own page or in a list
	KindDwell                    // an item visible for Event.Dwell ms
	KindScroll                   // a page read to Event.Scroll percent
	KindSearch                   // a site search for Event.Query
	KindClick                    // a click on an item
	KindCart                     // an add-to-cart
	KindPurchase                 // a purchase
	KindAttrs                    // the site declared visitor attributes (Event.Attrs)
)

var kindNames = [...]string{"", "page", "view", "dwell", "scroll", "search", "click", "cart", "purchase", "attrs"}

// String returns the kind's wire name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// ParseKind returns the Kind with the wire name s, or 0.
func ParseKind(s string) Kind {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i)
		}
	}
	return 0
}

// Item is a candidate or an interacted item, as the page describes it.
type Item struct {
	ID       string   // the site's product or content id
	Category string   // e.g. "evening-gowns"
	Tags     []string // e.g. "formal", "red"
	Price    float32  // in the site's currency; 0 when unknown
}

// EncodeTo writes the item as {i, c, t, p}.
func (it *Item) EncodeTo(w *msgp.Writer) {
	w.MapHeader(4)
	w.String("i")
	w.String(it.ID)
	w.String("c")
	w.String(it.Category)
	w.String("t")
	WriteStrings(w, it.Tags)
	w.String("p")
	w.Float32(it.Price)
}

// DecodeFrom reads an item; an id is required.
func (it *Item) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(8)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "i":
			it.ID = r.StringMax(MaxIDLen)
		case "c":
			it.Category = r.StringMax(MaxIDLen)
		case "t":
			it.Tags = readIDs(r, MaxTags)
		case "p":
			it.Price = r.Float32()
			if it.Price < 0 {
				r.Fail(ErrInvalid)
			}
		default:
			r.Skip()
		}
	}
	if it.ID == "" {
		r.Fail(&fieldError{"item id", ErrInvalid})
	}
}

// Context is what the loader knows about the moment, never who the visitor is.
type Context struct {
	Hour     uint8  // local hour, 0-23
	Weekday  uint8  // 0 = Sunday
	Month    uint8  // 1-12; 0 when unknown
	Device   string // "desktop", "mobile", "tablet" or ""
	Referrer string // "direct", "search", "social", "email", "ads", "internal", "other" or ""
	Page     string // "home", "product", "category", "article", "search", "cart", "other" or ""
	Region   string // the site's own region code, if it declares one
}

// EncodeTo writes the context as {h, d, m, dv, rf, pg, rg}.
func (c *Context) EncodeTo(w *msgp.Writer) {
	w.MapHeader(7)
	w.String("h")
	w.Uint(uint64(c.Hour))
	w.String("d")
	w.Uint(uint64(c.Weekday))
	w.String("m")
	w.Uint(uint64(c.Month))
	w.String("dv")
	w.String(c.Device)
	w.String("rf")
	w.String(c.Referrer)
	w.String("pg")
	w.String(c.Page)
	w.String("rg")
	w.String(c.Region)
}

// DecodeFrom reads a context; absent fields stay zero.
func (c *Context) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(16)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "h":
			c.Hour = uint8(r.UintMax(23))
		case "d":
			c.Weekday = uint8(r.UintMax(6))
		case "m":
			c.Month = uint8(r.UintMax(12))
		case "dv":
			c.Device = oneOf(r, "", "desktop", "mobile", "tablet")
		case "rf":
			c.Referrer = oneOf(r, "", "direct", "search", "social", "email", "ads", "internal", "other")
		case "pg":
			c.Page = oneOf(r, "", "home", "product", "category", "article", "search", "cart", "other")
		case "rg":
			c.Region = r.StringMax(MaxIDLen)
		default:
			r.Skip()
		}
	}
}

// Event is one signal from the page. Events stay on the device: the profile
// learns from them and they are never sent.
type Event struct {
	Kind   Kind
	Time   int64  // Unix milliseconds, from the page's clock
	Item   *Item  // for view, dwell, click, cart, purchase
	Dwell  uint32 // ms visible, for KindDwell
	Scroll uint8  // percent, for KindScroll
	Query  string // for KindSearch
	Ctx    Context
	Attrs  []Attr // for KindAttrs: declared visitor attributes; an empty Value removes one
}

// Attr is a visitor attribute the site declares ("tier" = "gold"). It stays
// on the device, for rules and the model. On the wire, a map.
type Attr struct {
	Key, Value string
}

// EncodeTo writes the event; the item is nil when absent.
func (e *Event) EncodeTo(w *msgp.Writer) {
	w.MapHeader(8)
	w.String("k")
	w.String(e.Kind.String())
	w.String("ts")
	w.Int(e.Time)
	w.String("it")
	if e.Item == nil {
		w.Nil()
	} else {
		e.Item.EncodeTo(w)
	}
	w.String("dw")
	w.Uint(uint64(e.Dwell))
	w.String("sc")
	w.Uint(uint64(e.Scroll))
	w.String("q")
	w.String(e.Query)
	w.String("cx")
	e.Ctx.EncodeTo(w)
	w.String("a")
	w.MapHeader(len(e.Attrs))
	for _, a := range e.Attrs {
		w.String(a.Key)
		w.String(a.Value)
	}
}

// DecodeFrom reads an event and checks that its kind has what it needs.
func (e *Event) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(16)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "k":
			e.Kind = ParseKind(r.StringMax(MaxIDLen))
		case "ts":
			e.Time = r.Int()
		case "it":
			if !r.IsNil() {
				e.Item = new(Item)
				e.Item.DecodeFrom(r)
			}
		case "dw":
			e.Dwell = uint32(r.UintMax(24 * 3600 * 1000))
		case "sc":
			e.Scroll = uint8(r.UintMax(100))
		case "q":
			e.Query = r.StringMax(MaxTextLen)
		case "cx":
			e.Ctx.DecodeFrom(r)
		case "a":
			e.Attrs = ReadAttrs(r)
		default:
			r.Skip()
		}
	}
	switch {
	case e.Kind == 0:
		r.Fail(&fieldError{"event kind", ErrInvalid})
	case e.Time <= 0:
		r.Fail(&fieldError{"event time", ErrInvalid})
	case e.Item == nil && e.Kind.NeedsItem():
		r.Fail(&fieldError{"event item", ErrInvalid})
	}
}

// NeedsItem reports whether events of kind k must name an item.
func (k Kind) NeedsItem() bool {
	return k == KindView || k == KindDwell || k == KindClick || k == KindCart || k == KindPurchase
}

// ReadAttrs reads a map of at most MaxAttrs visitor attributes.
func ReadAttrs(r *msgp.Reader) []Attr {
	n := r.MapMax(MaxAttrs)
	if n == 0 {
		return nil
	}
	a := make([]Attr, n)
	for i := range a {
		a[i] = Attr{Key: r.ID(MaxIDLen), Value: r.StringMax(MaxTextLen)}
	}
	return a
}
