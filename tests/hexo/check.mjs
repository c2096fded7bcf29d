// Reads the archive's Markdown files the way Hexo does and prints what Hexo sees, as JSON.
// Usage: node check.mjs FILE.md [FILE.md ...]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { marked } from "marked";
import nunjucks from "nunjucks";

const require = createRequire(import.meta.url);
const { parse } = require("hexo-front-matter");

const env = new nunjucks.Environment(null, { autoescape: false });
function nunjucksRender(text) {
  try {
    return env.renderString(text, {});
  } catch (err) {
    return "NUNJUCKS ERROR: " + String(err);
  }
}

const out = {};
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  try {
    const data = parse(text);
    const content = data._content;
    delete data._content;
    const date = data.date instanceof Date ? data.date : null;
    out[file] = {
      ok: true,
      title: data.title,
      titleType: typeof data.title,
      // The YAML parser reads a zone-less date as UTC; Hexo then re-reads those fields in the site timezone,
    // so the UTC fields are the wall-clock time Hexo shows.
      date: date ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()] : data.date,
      urlname: data.urlname,
      tags: data.tags,
      categories: data.categories,
      keys: Object.keys(data),
      html: marked.parse(content),
      // Hexo runs post content through Nunjucks before Markdown: it must come out unchanged.
      nunjucksUnchanged: nunjucksRender(content) === content,
    };
  } catch (err) {
    out[file] = { ok: false, error: String(err) };
  }
}
process.stdout.write(JSON.stringify(out));
