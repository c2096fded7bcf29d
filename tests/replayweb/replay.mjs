// Opens a WACZ in ReplayWeb.page's own <replay-web-page> embed, in Debian's headless Chromium driven by
// playwright-core, everything served on 127.0.0.1, and prints what the replay shows as one JSON object.
// It observes; tests/test_replaywebpage.py decides. Usage: node replay.mjs REQUEST.json
//
// REQUEST.json: {"wacz": path, "chromium": "/usr/bin/chromium", "profile": fresh empty dir,
//   "screenshots": dir, "pages": [{"url": archived article URL, "fetch": [URLs to fetch inside it]}],
//   "page_count": pages the package lists, "missing_image": URL not in the archive,
//   "missing_page": URL not in the archive,
//   "timeout_ms": bound on each wait}
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const RWP = join(HERE, "node_modules", "replaywebpage");
const request = JSON.parse(readFileSync(process.argv[2], "utf-8"));
const timeout = request.timeout_ms ?? 30000;

// The flags this machine's closed network needs; the profile is a fresh --user-data-dir (playwright
// passes it itself and refuses it among args). Besides, every host name but 127.0.0.1 fails to
// resolve and every request not to loopback goes to a closed loopback port: nothing can leave.
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
  "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1",
];

function embedPage(url, view) {
  // ReplayWeb.page's documented embed: ui.js on the page, sw.js under replaybase, the WACZ as source.
  const attr = (s) => s.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>cumt-archive WACZ in ReplayWeb.page</title>
<script src="/ui.js"></script>
<style>html, body { margin: 0; height: 100%; } replay-web-page { display: block; height: 100vh; }</style>
</head><body>
<replay-web-page source="/archive.wacz" url="${attr(url)}" view="${attr(view)}" replaybase="/replay/"
  embed="${url ? "replayonly" : "default"}"></replay-web-page>
</body></html>`;
}

const STATIC = {
  "/ui.js": [join(RWP, "ui.js"), "application/javascript"],
  "/replay/sw.js": [join(RWP, "sw.js"), "application/javascript"],
  "/archive.wacz": [request.wacz, "application/wacz"],
};

const served = [];
const server = createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  served.push(`${req.method} ${url.pathname}`);
  if (url.pathname === "/embed") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end(embedPage(url.searchParams.get("url") ?? "", url.searchParams.get("view") ?? "replay"));
    return;
  }
  const file = STATIC[url.pathname];
  if (!file) {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not here");
    return;
  }
  const [path, type] = file;
  const size = statSync(path).size;
  const headers = { "Content-Type": type, "Accept-Ranges": "bytes", "Cache-Control": "no-store" };
  // ReplayWeb.page reads a WACZ by byte ranges when the server offers them, as static web servers do.
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (range && (range[1] || range[2])) {
    const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { "Content-Range": `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...headers, "Content-Length": end - start + 1, "Content-Range": `bytes ${start}-${end}/${size}` });
    if (req.method === "HEAD") res.end();
    else createReadStream(path, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, "Content-Length": size });
  if (req.method === "HEAD") res.end();
  else createReadStream(path).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const context = await chromium.launchPersistentContext(request.profile, {
  executablePath: request.chromium,
  headless: true,
  chromiumSandbox: false,
  args: CHROMIUM_FLAGS,
  viewport: { width: 1280, height: 900 },
});
const offLoopback = [];
context.on("request", (r) => {
  const host = new URL(r.url()).hostname;
  if (!["127.0.0.1", "localhost"].includes(host) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) {
    offLoopback.push(r.url());
  }
});
// Answers of 400 and above (the negative controls' among them), for the test's failure messages.
const failedResponses = [];
context.on("response", (r) => { if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.url()}`); });

// An embed whose navigation under /replay/ goes past the service worker reaches this server, which
// answers ReplayWeb.page's index with its 404; ReplayWeb.page's own 3 reloads then recover, or on a
// loaded machine do not (CI once: no replay frame within 30 s). A navigation the worker intercepts
// never reaches this server, so a GET of /replay/ itself is the sign: the embed page is then opened
// afresh once the worker controls a replay frame again, at most EMBED_ATTEMPTS times, and each
// restart is reported in result.worker_bypassed (the test shows it as a warning).
const EMBED_ATTEMPTS = 3;
class WorkerBypassed extends Error {}

function bypassedSince(mark) {
  return served.slice(mark).some((line) => line === "GET /replay/" || line === "GET /replay/index.html");
}

// Opens /embed?QUERY and polls ready(page) until it gives a value, within the timeout.
async function openEmbed(query, ready, what) {
  for (let attempt = 1; ; attempt++) {
    const mark = served.length;
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/embed?${query}`);
      const deadline = Date.now() + timeout;
      for (;;) {
        const value = await ready(page, deadline);
        if (value !== undefined) return { page, value };
        if (bypassedSince(mark)) throw new WorkerBypassed(`the service worker let ${what} through to the server`);
        if (Date.now() > deadline) {
          throw new Error(`no ${what} within ${timeout} ms; frames: ${page.frames().map((f) => f.url()).join(" ")}`);
        }
        await page.waitForTimeout(100); // poll interval while the replay loads, not an assertion
      }
    } catch (e) {
      await page.close();
      if (!(e instanceof WorkerBypassed) || attempt >= EMBED_ATTEMPTS) throw e;
      result.worker_bypassed.push(`${what} (attempt ${attempt}): ${served.slice(mark).join(", ")}`);
      await activateServiceWorker();
    }
  }
}

// The replayed page is the innermost frame whose URL is ReplayWeb.page's replay URL of `url`
// (…/replay/w/<collection>/<timestamp>mp_/<url>), once it has finished loading.
async function replayFrame(page, url, deadline) {
  for (const frame of page.frames()) {
    if (frame.url().includes("mp_/" + url)) {
      try {
        await frame.waitForFunction(() => document.readyState === "complete", null, { timeout: Math.max(1, deadline - Date.now()) });
        return frame;
      } catch (e) {
        if (Date.now() > deadline) throw e; // the frame was replaced while loading: look again
      }
    }
  }
  return undefined;
}

async function open(url) {
  const { page, value: frame } = await openEmbed(
    `url=${encodeURIComponent(url)}`, (page, deadline) => replayFrame(page, url, deadline), `replay frame for ${url}`);
  const box = await (await frame.frameElement()).boundingBox();
  return { page, frame, box };
}

async function sha256Fetch(frame, urls) {
  // Fetch inside the replayed page, as its own scripts would: wombat maps each original URL to the
  // archive. The test compares the bytes' sha256 with the original files.
  return frame.evaluate(async (urls) => {
    const out = {};
    for (const url of urls) {
      const response = await fetch(url);
      const body = new Uint8Array(await response.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      out[url] = {
        status: response.status,
        type: response.headers.get("content-type"),
        length: body.length,
        sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
      };
    }
    return out;
  }, urls);
}

// ReplayWeb.page shows its iframe as soon as sw.js is *registered*; if the worker is not yet active
// when the iframe loads, it reloads the iframe 3 times, 100 ms apart, and then gives up, and on this
// shared 2-core machine installing the 1.2 MB sw.js sometimes takes longer. Nor is an *activated*
// worker enough: the first embed opened after that still sent its navigation to this server, every
// time (Chromium 156). So a first embed page only brings the worker up, and the checks start once
// the worker controls that page's replay frame.
async function activateServiceWorker() {
  const page = await context.newPage();
  await page.goto(`${origin}/embed?view=pages`);
  const deadline = Date.now() + timeout;
  for (;;) {
    const app = page.frames().find((f) => f.url().startsWith(`${origin}/replay/?`));
    try {
      if (app && await app.evaluate(() => navigator.serviceWorker.controller !== null)) break;
    } catch (e) {
      if (!String(e).includes("destroyed") && !String(e).includes("detached")) throw e; // reloading
    }
    if (Date.now() > deadline) throw new Error(`ReplayWeb.page's service worker controlled no replay frame within ${timeout} ms`);
    await page.waitForTimeout(100); // poll interval while the worker comes up, not an assertion
  }
  await page.close();
}

const result = { origin, chromium_version: context.browser()?.version() ?? null, pages: {}, worker_bypassed: [],
  step_ms: {} };  // how long each step took, against the timeout of each wait (for a slow run's diagnosis)
let stepStart = Date.now();
function stepDone(name) {
  result.step_ms[name] = Date.now() - stepStart;
  stepStart = Date.now();
}
try {
  await activateServiceWorker();
  stepDone("service worker");
  for (const [index, wanted] of request.pages.entries()) {
    const { page, frame, box } = await open(wanted.url);
    // Every <img> of the replayed page has loaded or failed: their outcome is final from here on.
    await frame.waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout });
    const seen = await frame.evaluate(() => ({
      location: window.location.href,
      title: document.title,
      text: document.body.innerText,
      images: [...document.images].map((img) => ({
        src: img.src, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      })),
    }));
    seen.frame_url = frame.url();
    seen.frame_box = box;
    seen.fetched = await sha256Fetch(frame, wanted.fetch);
    if (index === 0) {
      // Negative control for the image checks: an <img> of a URL that the archive does not hold,
      // added to the replayed page, must not load; fetching it must not give 200.
      result.missing_image = await frame.evaluate(async (url) => {
        const img = document.createElement("img");
        const done = new Promise((resolve) => { img.onload = () => resolve("load"); img.onerror = () => resolve("error"); });
        img.src = url;
        document.body.appendChild(img);
        const outcome = await done;
        return { outcome, complete: img.complete, naturalWidth: img.naturalWidth };
      }, request.missing_image);
      result.missing_image.fetched = (await sha256Fetch(frame, [request.missing_image]))[request.missing_image];
    }
    await page.screenshot({ path: join(request.screenshots, `page-${index}.png`) });
    await page.close();
    result.pages[wanted.url] = seen;
    stepDone(wanted.url);
  }
  // ReplayWeb.page's page list of the package (its Pages view): each entry's page, once all are shown.
  const { page: listPage, value: entries } = await openEmbed("view=pages", async (page) => {
    const app = page.frames().find((f) => f.url().startsWith(`${origin}/replay/?`));
    let listed = [];
    try {
      if (app) listed = await app.locator("wr-page-entry").evaluateAll((els) => els.map((e) => ({ url: e.page.url, title: e.page.title })));
    } catch (e) {
      if (!String(e).includes("destroyed") && !String(e).includes("detached")) throw e; // the app frame was reloading
    }
    return listed.length >= request.page_count ? listed : undefined;
  }, "page list");
  result.page_list = entries;
  await listPage.screenshot({ path: join(request.screenshots, "page-list.png") });
  await listPage.close();

  // Negative control for the page checks: a page the archive does not hold.
  stepDone("page list");
  const missing = await open(request.missing_page);
  result.missing_page = await missing.frame.evaluate(() => ({ title: document.title, text: document.body.innerText }));
  await missing.page.screenshot({ path: join(request.screenshots, "missing-page.png") });
  await missing.page.close();
  stepDone("page not archived");
} catch (e) {
  result.error = String(e?.stack ?? e);
} finally {
  result.off_loopback_requests = offLoopback;
  result.failed_responses = failedResponses;
  result.served = served;
  await context.close();
  server.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
