package console

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/tailorhq/tailor/server/api"
)

// WithAssets gives where the server serves its assets (api.Server.Asset):
// the install page writes the script tag with the loader's current,
// content-hashed URL and its Subresource Integrity hash, and the page
// checker imports the loader's own scanner, the chunk tailor.js loads.
func WithAssets(asset func(name string) (api.AssetRef, bool)) Option {
	return func(c *Console) error {
		c.asset = asset
		return nil
	}
}

// installPage is the data of the install page.
type installPage struct {
	Tag      string // the script tag to paste, "" when the server has no loader
	Src      string
	Integ    string
	Scanner  string // the URL of the chunk holding the scanner, "" when none
	Checker  template.URL
	HasAdmin bool
}

// handleInstall shows the script tag and the page checker.
func (c *Console) handleInstall(w http.ResponseWriter, r *http.Request, p *page) {
	ip := &installPage{Checker: "/console/static/checker.js"}
	if c.asset != nil {
		if ref, ok := c.asset("tailor.js"); ok {
			scheme := "http"
			if r.TLS != nil || c.secure {
				scheme = "https"
			}
			ip.Src, ip.Integ = scheme+"://"+r.Host+ref.URL, ref.Integrity
			ip.Tag = fmt.Sprintf(`<script src="%s" data-site="%s" integrity="%s" crossorigin="anonymous" async></script>`,
				ip.Src, p.Site.Key, ref.Integrity)
		}
		if ref, ok := c.asset("tailor-extra.js"); ok {
			ip.Scanner = ref.URL
		}
	}
	p.Title, p.Tab, p.D = "Install", "install", ip
	c.render(w, http.StatusOK, "install", p)
}
