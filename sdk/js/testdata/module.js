// The ES module build, as a site that bundles would start it.
import { start, tailor } from "/tailor.mjs";
window.tailor = tailor;
start({ site: "test", timeout: 5000 });
