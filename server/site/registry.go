package site

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Registry is what the console's sites page changed of the sites: the
// sites added there, and the owner credentials rotated there (for a site
// of the --sites file too: the rotated one overrides the file's). It is
// kept in the store, so that every replica serves the same.
//
// Its JSON is the --sites file's form:
//
//	{"sites": [{"key": "shop2", "origins": [...], "privacy": "federated", "owner_token_sha256": "..."}],
//	 "owners": {"demo": "9f86d0..."}}
type Registry struct {
	Sites  []Site            // added in the console, in the order added
	Owners map[string][]byte // by key: the SHA-256 of the rotated owner token
}

type registryFile struct {
	Sites  []fileSite        `json:"sites"`
	Owners map[string]string `json:"owners,omitempty"`
}

// MarshalJSON writes the registry in the --sites file's form.
func (r Registry) MarshalJSON() ([]byte, error) {
	f := registryFile{Sites: []fileSite{}, Owners: map[string]string{}}
	for i := range r.Sites {
		f.Sites = append(f.Sites, fileOf(&r.Sites[i]))
	}
	for k, h := range r.Owners {
		f.Owners[k] = hex.EncodeToString(h)
	}
	return json.Marshal(&f)
}

// UnmarshalJSON reads a registry, validating each site as the --sites
// file's (ErrInvalid).
func (r *Registry) UnmarshalJSON(b []byte) error {
	var f registryFile
	if err := decodeStrict(bytes.NewReader(b), &f, "registry"); err != nil {
		return err
	}
	out := Registry{Owners: map[string][]byte{}}
	for _, fs := range f.Sites {
		s, err := fs.site()
		if err == nil {
			err = s.validate()
		}
		if err != nil {
			return err
		}
		out.Sites = append(out.Sites, s)
	}
	for k, h := range f.Owners {
		d, err := hex.DecodeString(h)
		if err != nil || len(d) != 32 {
			return fmt.Errorf("%w: registry: the owner hash of %q is not a hex SHA-256", ErrInvalid, k)
		}
		out.Owners[k] = d
	}
	*r = out
	return nil
}

// Validate checks a site as the --sites file's are (ErrInvalid): for a
// site the console is about to add.
func (s *Site) Validate() error { return s.validate() }

// fileOf returns a site in the file's form.
func fileOf(s *Site) fileSite {
	fs := fileSite{Key: s.Key, Origins: slices.Clone(s.Origins), Privacy: PrivacyName(s.Privacy), Epsilon: s.Epsilon,
		DayBudget: s.DayBudget, Explore: s.Explore, Diversity: s.Diversity, Replenish: maps.Clone(s.Replenish),
		Rules: rulesFile(s.Rules), Catalog: slices.Clone(s.Catalog), Slots: slices.Clone(s.Slots)}
	h := s.Holdout
	fs.Holdout = &h
	if s.OwnerHash != nil {
		fs.OwnerHash = hex.EncodeToString(s.OwnerHash)
	}
	return fs
}

// PrivacyName returns a privacy mode's name in the --sites file.
func PrivacyName(p wire.Privacy) string {
	switch p {
	case wire.PrivacyLocal:
		return "local"
	case wire.PrivacyLDP:
		return "federated+ldp"
	}
	return "federated"
}
