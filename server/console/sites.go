package console

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// sitesPage is the data of the admin's sites page.
type sitesPage struct {
	Sites    []SiteState
	Audit    []store.AuditEntry
	Form     addForm
	NewKey   string // the site just added, and its owner token: shown once
	NewToken string
}

// addForm is the "add a site" form as typed.
type addForm struct {
	Key, Origins, Privacy, Epsilon string
}

// renderSites renders the admin's sites page.
func (c *Console) renderSites(w http.ResponseWriter, r *http.Request, code int, p *page, sp *sitesPage) {
	sp.Sites = c.registry.List()
	var err error
	if sp.Audit, err = c.registry.Audit(r.Context()); err != nil {
		p.Error = "The sites' log could not be read: " + err.Error()
	}
	if sp.Form.Privacy == "" {
		sp.Form.Privacy = "federated"
	}
	p.Title, p.D = "Sites", sp
	c.render(w, code, "sites", p)
}

// handleAddSite adds a site (the admin only): its key generated unless
// given, its origins and privacy mode; its owner token is made here and
// shown once, its SHA-256 alone stored.
func (c *Console) handleAddSite(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(r)
	if !ok || !s.admin {
		http.Error(w, ErrNoSession.Error(), http.StatusUnauthorized)
		return
	}
	p := &page{Session: s}
	if !sameOrigin(r) || !c.sessions.checkCSRF(s, r.PostFormValue("csrf")) {
		http.Error(w, ErrCSRF.Error(), http.StatusForbidden)
		return
	}
	f := addForm{Key: strings.TrimSpace(r.PostFormValue("key")), Origins: r.PostFormValue("origins"),
		Privacy: r.PostFormValue("privacy"), Epsilon: strings.TrimSpace(r.PostFormValue("epsilon"))}
	sp := &sitesPage{Form: f}
	st, err := f.site()
	if err == nil {
		token, hash := site.NewToken()
		st.OwnerHash, _ = hex.DecodeString(hash)
		if err = c.registry.Add(r.Context(), st, s.who()); err == nil {
			c.log.Info("console: site added", "site", st.Key, "who", s.who())
			sp.NewKey, sp.NewToken, sp.Form = st.Key, token, addForm{}
			p.Notice = "Site " + st.Key + " added: every server serves it within seconds."
			if state, _ := c.registry.State(st.Key); state.Pending {
				p.Notice = "Site " + st.Key + " added. Every server serves it from its next start."
			}
			c.renderSites(w, r, http.StatusCreated, p, sp)
			return
		}
	}
	code := http.StatusUnprocessableEntity
	if !errors.Is(err, site.ErrInvalid) && !errors.Is(err, ErrSiteExists) && !errors.Is(err, ErrSiteForm) {
		code = http.StatusInternalServerError
	}
	p.Error = "Not added: " + strings.TrimPrefix(err.Error(), "site: ")
	c.renderSites(w, r, code, p, sp)
}

// site returns the form's site, validated as the --sites file's.
func (f *addForm) site() (site.Site, error) {
	s := site.Site{Key: f.Key, Origins: lines(f.Origins), Holdout: site.DefaultHoldout}
	if s.Key == "" {
		s.Key = "site-" + randomToken()[:12]
	}
	switch f.Privacy {
	case "local":
		s.Privacy = wire.PrivacyLocal
	case "federated":
		s.Privacy = wire.PrivacyFederated
	case "federated+ldp":
		s.Privacy = wire.PrivacyLDP
		eps, err := strconv.ParseFloat(f.Epsilon, 32)
		if err != nil {
			return s, fmt.Errorf("%w: federated+ldp needs an epsilon (a number), not %q", ErrSiteForm, f.Epsilon)
		}
		s.Epsilon = float32(eps)
	default:
		return s, fmt.Errorf("%w: privacy %q is not local, federated or federated+ldp", ErrSiteForm, f.Privacy)
	}
	return s, s.Validate()
}

// siteConfigPage is the data of a site's configuration page.
type siteConfigPage struct {
	State    SiteState
	Served   *site.Site // with the owner's rules and slot settings
	Edited   bool
	Config   string // the configuration devices get, as the --sites file would say it
	NewToken string // a rotated owner token: shown once
}

// handleSiteConfig shows a site's configuration.
func (c *Console) handleSiteConfig(w http.ResponseWriter, r *http.Request, p *page) {
	c.renderSiteConfig(w, r, http.StatusOK, p, "")
}

func (c *Console) renderSiteConfig(w http.ResponseWriter, r *http.Request, code int, p *page, token string) {
	st, _ := c.registry.State(p.Site.Key)
	if st.Site == nil {
		st.Site = p.Site
	}
	settings, err := c.levers.Read(r.Context(), p.Site.Key)
	if err != nil {
		p.Error = "The settings could not be read: " + err.Error()
	}
	served := c.levers.edited(p.Site, settings)
	e := served.Edit()
	js, _ := e.MarshalJSON()
	p.Title, p.Tab = "Site", "site"
	p.D = &siteConfigPage{State: st, Served: served, Edited: len(settings.Config) > 0, Config: indentJSON(js), NewToken: token}
	c.render(w, code, "site", p)
}

// handleRotate makes a new owner token for a site (its owner or the
// admin), shows it once and stores only its SHA-256: the old token, and
// the sessions it opened, end.
func (c *Console) handleRotate(w http.ResponseWriter, r *http.Request, p *page) {
	token, hash := site.NewToken()
	h, _ := hex.DecodeString(hash)
	if err := c.registry.Rotate(r.Context(), p.Site.Key, h, p.Session.who()); err != nil {
		c.log.Error("console: rotate", "site", p.Site.Key, "err", err)
		p.Error = "Not rotated: " + err.Error()
		c.renderSiteConfig(w, r, http.StatusInternalServerError, p, "")
		return
	}
	c.log.Info("console: owner token rotated", "site", p.Site.Key, "who", p.Session.who())
	p.Notice = "A new owner token: copy it now, it is not shown again. The old one opens nothing any more."
	if !p.Session.admin {
		p.Notice += " Sign in again with the new one."
	}
	if st, ok := c.sites.Get(p.Site.Key); ok {
		p.Site = st
	}
	c.renderSiteConfig(w, r, http.StatusOK, p, token)
}

// indentJSON indents JSON for a person.
func indentJSON(js []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, js, "", "  ") != nil {
		return string(js)
	}
	return b.String()
}
