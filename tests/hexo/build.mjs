// Builds a real Hexo site with Hexo itself (hexo 7, hexo-renderer-marked, the landscape theme), as
// `hexo generate` does, and prints the posts Hexo saw as JSON: [{source, path, title}].
// Usage: node build.mjs SITE_DIR
// SITE_DIR holds _config.yml, a package.json naming the plugins, node_modules (a link to this folder's)
// and source/_posts/*.md; see tests/test_hexo_site.py.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const Hexo = require("hexo");

const site = path.resolve(process.argv[2]);
const hexo = new Hexo(site, { silent: true });
hexo.env.init = true; // what hexo-cli sets once it has found the site's package.json
await hexo.init();
await hexo.call("generate", {});
const posts = hexo.locals.get("posts").map((p) => ({ source: p.source, path: p.path, title: p.title }));
await hexo.exit();
process.stdout.write(JSON.stringify(posts));
