// Package site is the server's configuration of the sites it serves: each
// site key with the origins allowed to use it, its privacy mode, its
// business rules and its exploration and holdout shares. The part devices
// need is shipped with every model version as a wire.Config.
//
// Sites come from a JSON file (see testdata/sites.json):
//
//	{"sites": [{"key": "shop", "origins": ["https://shop.example"],
//	  "privacy": "federated", "explore": 0.05, "holdout": 0.05,
//	  "owner_token_sha256": "9f86d081884c7d65...",
//	  "rules": [{"id": "r1", "segment": "evening shopper",
//	    "if": [{"field": "viewed.category", "op": "in", "values": ["evening-gowns"]}],
//	    "then": {"do": "boost", "categories": ["jewelry"], "weight": 1}}]}]}
//
//	set, err := site.Load("sites.json")
//
// A site's owner reads its stats with a token of its own; the
// configuration holds only the token's SHA-256 (owner_token_sha256), made
// with NewToken (`tailor-server token` prints a pair). A random 256-bit
// token needs no slow, salted hash: nothing can guess its way back to it
// from the digest, so a leaked configuration does not leak the credential.
//
// # Notes
//
// A Set is safe to share between goroutines. Its sites are immutable;
// Put replaces one (the console's sites page: an added site, a rotated
// owner token), so a caller holding a *Site keeps the one it got.
package site

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/tailorhq/tailor/sdk/wire"
)

// DefaultHoldout is the share of devices that see the site's default
// order, for the uplift report, when a site does not set one.
const DefaultHoldout = 0.05

// Errors of loading a configuration.
var (
	ErrInvalid   = errors.New("site: invalid configuration")
	ErrDuplicate = errors.New("site: duplicate site key")
)

// Site is one site's configuration.
type Site struct {
	Key       string            // the site key devices send (wire.Delta.Site)
	Origins   []string          // origins allowed to call the API for this site ("*": any)
	Privacy   wire.Privacy      // local, federated or federated+ldp
	Epsilon   float32           // the LDP budget devices spend per delta (federated+ldp)
	DayBudget float32           // the LDP budget a device spends per UTC day (0: wire.DefaultDayDeltas × Epsilon)
	Explore   float32           // share of rankings that promote one random item
	Holdout   float32           // share of devices that see the default order
	Diversity float32           // penalty on repeating a category near the top
	Replenish map[string]uint16 // days after a purchase in a category to suggest refills
	Rules     []wire.Rule
	// Catalog is the site's public catalogue of item ids (federated+ldp):
	// the candidates the server estimates LDP frequencies over, since it
	// never learns which items devices saw. Not shipped to devices.
	Catalog []string
	// OwnerHash is the SHA-256 of the owner's token, which reads the
	// site's stats (nil: only the admin token does).
	OwnerHash []byte
	// Slots are the site's slots declared by CSS selector, for pages that
	// carry no data-tailor-slot markup; served in the manifest (the
	// loader's chunk, sdk/js/src/extra.js, reads them).
	Slots []Slot
}

// Slot declares a slot by CSS selector: the loader reorders the tiles in
// place (moving the elements, nothing else). Either Container, with Tile
// when the tiles are not its children, or Auto: the page's largest
// product grid that the loader's scanner finds.
type Slot struct {
	Name      string `json:"name"`                // the slot's name, for rules and statistics
	Container string `json:"container,omitempty"` // CSS selector of the element holding the tiles
	Tile      string `json:"tile,omitempty"`      // CSS selector of the tiles within it (default: its children)
	Limit     int    `json:"limit,omitempty"`     // tiles shown at most (0: all)
	Auto      bool   `json:"auto,omitempty"`      // the largest product grid found, instead of Container
}

// Bounds of a site's slots: what the loader reads stays small.
const (
	MaxSlots       = 16
	maxSelectorLen = 256
)

// NewToken returns a new owner credential, 256 random bits as 43
// URL-safe characters, and the SHA-256 a configuration stores for it
// (hex, as owner_token_sha256). The token is shown once to its owner and
// never stored by the server.
func NewToken() (token string, sha256Hex string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token, as owner_token_sha256
// holds it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Owns reports whether sum, the SHA-256 of a token, is the site's
// OwnerHash (false for a site without an owner: no sum has its length).
// The comparison takes constant time: its timing tells nothing of either
// token. The API's bearer tokens and the console's sign-in both ask it.
func (s *Site) Owns(sum [sha256.Size]byte) bool {
	return subtle.ConstantTimeCompare(sum[:], s.OwnerHash) == 1
}

// MaxCatalog bounds a site's Catalog.
const MaxCatalog = wire.MaxWeightsItems

// Config returns what devices need of the site's configuration.
func (s *Site) Config() wire.Config {
	return wire.Config{Site: s.Key, Privacy: s.Privacy, Epsilon: s.Epsilon, DayBudget: s.DayBudget, Explore: s.Explore,
		Holdout: s.Holdout, Diversity: s.Diversity, Replenish: s.Replenish, Rules: s.Rules}
}

// AllowsOrigin reports whether a browser at origin may use the site.
func (s *Site) AllowsOrigin(origin string) bool {
	return slices.Contains(s.Origins, origin) || slices.Contains(s.Origins, "*")
}

// Set is the sites a server serves, by key.
type Set struct {
	mu    sync.RWMutex
	sites map[string]*Site
	keys  []string
}

// NewSet validates sites and returns them as a Set.
func NewSet(sites ...Site) (*Set, error) {
	set := &Set{sites: map[string]*Site{}}
	for i := range sites {
		s := sites[i]
		if err := s.validate(); err != nil {
			return nil, err
		}
		if _, ok := set.sites[s.Key]; ok {
			return nil, fmt.Errorf("%w: %q", ErrDuplicate, s.Key)
		}
		set.sites[s.Key] = &s
		set.keys = append(set.keys, s.Key)
	}
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("%w: no sites", ErrInvalid)
	}
	return set, nil
}

// Get returns the site with a key.
func (set *Set) Get(key string) (*Site, bool) {
	set.mu.RLock()
	defer set.mu.RUnlock()
	s, ok := set.sites[key]
	return s, ok
}

// Keys returns the site keys in configuration order.
func (set *Set) Keys() []string {
	set.mu.RLock()
	defer set.mu.RUnlock()
	return slices.Clone(set.keys)
}

// Put validates a site and adds it to the set, or replaces the site with
// its key.
func (set *Set) Put(s Site) error {
	if err := s.validate(); err != nil {
		return err
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	if _, ok := set.sites[s.Key]; !ok {
		set.keys = append(set.keys, s.Key)
	}
	set.sites[s.Key] = &s
	return nil
}

// AnyAllowsOrigin reports whether some site allows origin: a CORS
// preflight carries no site key, so it is answered for the union.
func (set *Set) AnyAllowsOrigin(origin string) bool {
	set.mu.RLock()
	defer set.mu.RUnlock()
	for _, s := range set.sites {
		if s.AllowsOrigin(origin) {
			return true
		}
	}
	return false
}

// file is the JSON configuration file.
type file struct {
	Sites []fileSite `json:"sites"`
}

type fileSite struct {
	Key       string            `json:"key"`
	Origins   []string          `json:"origins"`
	Privacy   string            `json:"privacy"`
	Epsilon   float32           `json:"epsilon"`
	DayBudget float32           `json:"day_budget"`
	Explore   float32           `json:"explore"`
	Holdout   *float32          `json:"holdout"`
	Diversity float32           `json:"diversity"`
	Replenish map[string]uint16 `json:"replenish"`
	Rules     []fileRule        `json:"rules"`
	Catalog   []string          `json:"catalog"`
	OwnerHash string            `json:"owner_token_sha256"`
	Slots     []Slot            `json:"slots"`
}

type fileRule struct {
	ID      string     `json:"id"`
	Segment string     `json:"segment,omitempty"`
	If      []fileCond `json:"if,omitempty"`
	Then    fileAction `json:"then"`
}

type fileCond struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"`
	Values []string `json:"values,omitempty"`
	Min    float32  `json:"min,omitempty"`
	Max    float32  `json:"max,omitempty"`
}

type fileAction struct {
	Do         string   `json:"do"`
	IDs        []string `json:"ids,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Weight     float32  `json:"weight,omitempty"`
}

// Load reads a configuration file.
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	defer f.Close()
	set, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return set, nil
}

// Parse reads a JSON configuration; unknown fields are errors, so a typo
// does not silently drop a setting.
func Parse(r io.Reader) (*Set, error) {
	var f file
	if err := decodeStrict(r, &f, "sites"); err != nil {
		return nil, err
	}
	sites := make([]Site, len(f.Sites))
	for i, fs := range f.Sites {
		s, err := fs.site()
		if err != nil {
			return nil, err
		}
		sites[i] = s
	}
	return NewSet(sites...)
}

// decodeStrict decodes the one JSON value r holds into v. Unknown fields
// are errors, so a typo does not silently drop a setting, and so is text
// after the value; each wraps ErrInvalid and names what was read.
func decodeStrict(r io.Reader, v any, what string) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: %s: text after the value", ErrInvalid, what)
	}
	return nil
}

func (fs *fileSite) site() (Site, error) {
	s := Site{Key: fs.Key, Origins: fs.Origins, Epsilon: fs.Epsilon, DayBudget: fs.DayBudget, Explore: fs.Explore, Holdout: DefaultHoldout,
		Diversity: fs.Diversity, Replenish: fs.Replenish, Catalog: fs.Catalog, Slots: fs.Slots}
	if fs.Holdout != nil {
		s.Holdout = *fs.Holdout
	}
	if fs.OwnerHash != "" {
		h, err := hex.DecodeString(fs.OwnerHash)
		if err != nil || len(h) != sha256.Size {
			return s, fmt.Errorf("%w: site %q: owner_token_sha256 is not the hex SHA-256 of a token (tailor-server token makes one)", ErrInvalid, fs.Key)
		}
		s.OwnerHash = h
	}
	switch fs.Privacy {
	case "local":
		s.Privacy = wire.PrivacyLocal
	case "federated", "":
		s.Privacy = wire.PrivacyFederated
	case "federated+ldp":
		s.Privacy = wire.PrivacyLDP
	default:
		return s, fmt.Errorf("%w: site %q: privacy %q is not local, federated or federated+ldp", ErrInvalid, fs.Key, fs.Privacy)
	}
	s.Rules = wireRules(fs.Rules)
	return s, nil
}

// validate checks a site, and its rules by the guest's own decoder: what
// the server ships, every device accepts.
func (s *Site) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: site %q: %s", ErrInvalid, s.Key, fmt.Sprintf(format, args...))
	}
	if s.Key == "" || len(s.Key) > wire.MaxIDLen || strings.TrimSpace(s.Key) != s.Key {
		return bad("the key must be 1-%d bytes without surrounding spaces", wire.MaxIDLen)
	}
	if len(s.Origins) == 0 {
		return bad(`no origins: list the sites that may use the key ("*" for any)`)
	}
	if s.OwnerHash != nil && len(s.OwnerHash) != sha256.Size {
		return bad("the owner hash has %d bytes, want a SHA-256", len(s.OwnerHash))
	}
	for _, o := range s.Origins {
		if err := checkOrigin(o); err != nil {
			return bad("%v", err)
		}
	}
	for name, v := range map[string]float32{"explore": s.Explore, "holdout": s.Holdout, "diversity": s.Diversity} {
		if !(v >= 0 && v <= 1) {
			return bad("%s %v is not within 0-1", name, v)
		}
	}
	switch {
	case s.Privacy == wire.PrivacyLDP && !(s.Epsilon > 0 && s.Epsilon <= 100):
		return bad("federated+ldp needs an epsilon within (0, 100], not %v", s.Epsilon)
	case s.Privacy != wire.PrivacyLDP && s.Epsilon != 0:
		return bad("epsilon %v is only for federated+ldp", s.Epsilon)
	case s.DayBudget != 0 && (s.Privacy != wire.PrivacyLDP || !(s.DayBudget >= s.Epsilon && s.DayBudget <= 1000)):
		return bad("day_budget %v: only for federated+ldp, within [epsilon, 1000]", s.DayBudget)
	case s.Privacy > wire.PrivacyLDP:
		return bad("unknown privacy mode %d", s.Privacy)
	}
	if len(s.Catalog) > MaxCatalog {
		return bad("catalog of %d items: at most %d", len(s.Catalog), MaxCatalog)
	}
	for _, id := range s.Catalog {
		if id == "" || len(id) > wire.MaxIDLen || strings.IndexByte(id, 0) >= 0 {
			return bad("catalog item id %q: need 1-%d bytes without NUL", id, wire.MaxIDLen)
		}
	}
	if len(s.Slots) > MaxSlots {
		return bad("%d slots: at most %d", len(s.Slots), MaxSlots)
	}
	for _, sl := range s.Slots {
		switch {
		case sl.Name == "" || len(sl.Name) > wire.MaxIDLen:
			return bad("slot name %q: need 1-%d bytes", sl.Name, wire.MaxIDLen)
		case sl.Auto == (sl.Container != ""):
			return bad("slot %q: give either a container selector or auto", sl.Name)
		case len(sl.Container) > maxSelectorLen || len(sl.Tile) > maxSelectorLen:
			return bad("slot %q: selectors of at most %d bytes", sl.Name, maxSelectorLen)
		case sl.Limit < 0 || sl.Limit > 5000:
			return bad("slot %q: limit %d is not within 0-5000", sl.Name, sl.Limit)
		}
	}
	ids := map[string]bool{}
	for _, r := range s.Rules {
		if ids[r.ID] {
			return bad("rule id %q is used twice", r.ID)
		}
		ids[r.ID] = true
	}
	cfg := s.Config()
	var back wire.Config
	if err := wire.Unmarshal(wire.Marshal(&cfg), &back, "config"); err != nil {
		return bad("%v", err)
	}
	return nil
}

// checkOrigin accepts "*" or a serialized origin: scheme://host[:port].
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ToLower(o) != o {
		return fmt.Errorf("origin %q is not of the form https://host[:port] (lowercase, no path)", o)
	}
	return nil
}

// ConfigBytes returns the site's wire.Config encoded as devices receive it.
func (s *Site) ConfigBytes() []byte {
	cfg := s.Config()
	return bytes.Clone(wire.Marshal(&cfg))
}
