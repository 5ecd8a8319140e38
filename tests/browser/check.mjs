#!/usr/bin/env node
// Browser checks for the analyse HTML briefs, one JSON summary on stdout. Run by
// tests/test_browser.py (`make test`); installed with `npm ci` from package-lock.json.
//
//   node check.mjs [options] FILE.html [FILE.html ...]
//
// For each file:
//   axe    axe-core with the tags wcag2a, wcag2aa, wcag21a, wcag21aa, run at a desktop
//          (1280 px) and a phone (390 px) viewport; violations merged per rule.
//   phone  at a 390 px wide viewport, with every <details> opened (so axe and the checks
//          below also see the data tables behind the figures): does the page scroll sideways (document scrollWidth >
//          innerWidth), which elements extend past the viewport, which regions scroll
//          sideways inside the page, and the smallest rendered font size of text in tables and
//          in SVG figures (inline <svg> and <img src="data:image/svg+xml...">/"*.svg").
//   pdf    page.pdf({format: 'A4', printBackground: true}) into --out.
//
// Options:
//   --out DIR            PDF folder (default: ./browser-out); created if missing
//   --no-pdf / --no-axe / --no-phone   skip a part
//   --width PX           phone width (default 390)
//   --axe-viewports L    comma list of desktop,phone (default: desktop,phone)
//   --max-nodes N        nodes listed per violation (default 25; "count" is always the total)
//   --fail-on-overflow   also exit 1 when the page scrolls sideways at the phone width
//   --min-font PX        also exit 1 when a table or SVG text is smaller than PX at the phone width
//   --fail-on-cutoff     also exit 1 when SVG text extends past its figure's edge (cut off)
//   --strict             all three: --fail-on-overflow --min-font 12 --fail-on-cutoff
//
// Chromium: $CHROMIUM or /usr/bin/chromium; never downloads a browser.
// Exit: 0 clean, 1 a check failed (any axe violation; overflow/min-font when asked),
//       2 usage error, missing file or browser failure (JSON still printed when possible).

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const VERSIONS = {
  'axe-core': require('axe-core/package.json').version,
  'playwright-core': require('playwright-core/package.json').version,
};
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const DESKTOP = { width: 1280, height: 900 };

function usage(msg) {
  if (msg) process.stderr.write(`check.mjs: ${msg}\n`);
  process.stderr.write('usage: node check.mjs [--out DIR] [--width PX] [--no-pdf] [--no-axe] ' +
    '[--no-phone] [--axe-viewports desktop,phone] [--max-nodes N] [--fail-on-overflow] ' +
    '[--min-font PX] [--fail-on-cutoff] [--strict] FILE.html ...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { out: 'browser-out', width: 390, pdf: true, axe: true, phone: true,
    axeViewports: ['desktop', 'phone'], maxNodes: 25, failOnOverflow: false, minFont: null,
    failOnCutoff: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--out') o.out = val();
    else if (a === '--width') o.width = Number(val());
    else if (a === '--no-pdf') o.pdf = false;
    else if (a === '--no-axe') o.axe = false;
    else if (a === '--no-phone') o.phone = false;
    else if (a === '--axe-viewports') o.axeViewports = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--max-nodes') o.maxNodes = Number(val());
    else if (a === '--fail-on-overflow') o.failOnOverflow = true;
    else if (a === '--min-font') o.minFont = Number(val());
    else if (a === '--fail-on-cutoff') o.failOnCutoff = true;
    else if (a === '--strict') { o.failOnOverflow = true; o.failOnCutoff = true; if (o.minFont == null) o.minFont = 12; }
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (!o.files.length) usage('no HTML files given');
  if (!(o.width > 0)) usage('--width must be a positive number');
  for (const v of o.axeViewports) if (!['desktop', 'phone'].includes(v)) usage(`bad viewport ${v}`);
  return o;
}

// ------------------------------------------------------------------------------------- axe

async function runAxe(page, label) {
  await page.evaluate(axeSource);
  return page.evaluate(async ({ tags, label }) => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
      nodes: v.nodes.map((n) => {
        const node = { target: n.target.join(' '), html: n.html.slice(0, 300), viewport: label };
        const data = (n.any || []).concat(n.all || [], n.none || []).map((c) => c.data).find(
          (d) => d && typeof d === 'object' && 'contrastRatio' in d);
        if (data) {
          node.contrast = { fg: data.fgColor, bg: data.bgColor, ratio: data.contrastRatio,
            expected: data.expectedContrastRatio, fontSize: data.fontSize,
            fontWeight: data.fontWeight };
        }
        node.summary = (n.failureSummary || '').split('\n').slice(0, 3).join(' ').slice(0, 300);
        return node;
      }),
    }));
  }, { tags: AXE_TAGS, label });
}

function mergeViolations(lists, maxNodes) {
  const byId = new Map();
  for (const list of lists) {
    for (const v of list) {
      const cur = byId.get(v.id) || { ...v, nodes: [], viewports: [] };
      const vp = v.nodes[0]?.viewport;
      if (vp && !cur.viewports.includes(vp)) cur.viewports.push(vp);
      const seen = new Set(cur.nodes.map((n) => n.target));
      for (const n of v.nodes) if (!seen.has(n.target)) { cur.nodes.push(n); seen.add(n.target); }
      byId.set(v.id, cur);
    }
  }
  return [...byId.values()].map((v) => {
    const out = { id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      viewports: v.viewports, count: v.nodes.length, nodes: v.nodes.slice(0, maxNodes) };
    const pairs = new Map();
    for (const n of v.nodes) {
      if (!n.contrast) continue;
      const k = `${n.contrast.fg} on ${n.contrast.bg}`;
      const p = pairs.get(k) || { fg: n.contrast.fg, bg: n.contrast.bg, ratio: n.contrast.ratio,
        expected: n.contrast.expected, count: 0, example: n.target };
      p.count++;
      pairs.set(k, p);
    }
    if (pairs.size) out.colourPairs = [...pairs.values()].sort((a, b) => b.count - a.count);
    return out;
  }).sort((a, b) => b.count - a.count);
}

// ------------------------------------------------------------------------------ phone checks

// Runs in the page: overflow and the smallest font sizes. Returns plain JSON.
async function phoneChecks(page) {
  return page.evaluate(async () => {
    const r1 = (x) => Math.round(x * 100) / 100;
    const sel = (el) => {
      if (!el || el.nodeType !== 1) return '';
      const parts = [];
      for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
        let s = e.localName;
        if (e.id) { parts.unshift(`${s}#${CSS.escape(e.id)}`); break; }
        const cls = [...e.classList].filter((c) => !/^(cell|border-box-sizing|rendered|output_|inner_|text_cell|code_cell|jp-)/.test(c)).slice(0, 2);
        if (cls.length) s += '.' + cls.map((c) => CSS.escape(c)).join('.');
        const sib = e.parentElement ? [...e.parentElement.children].filter((c) => c.localName === e.localName) : [];
        if (sib.length > 1) s += `:nth-of-type(${sib.indexOf(e) + 1})`;
        parts.unshift(s);
      }
      return parts.join(' > ');
    };
    const text = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 80);
    const vw = window.innerWidth;
    const doc = document.documentElement;
    const visible = (el) => {
      const cs = getComputedStyle(el);
      return cs.display !== 'none' && cs.visibility !== 'hidden';
    };
    // The nearest ancestor that clips horizontally (a scroll or hidden container), if any.
    const clipper = (el) => {
      for (let e = el.parentElement; e && e !== document.body && e !== doc; e = e.parentElement) {
        const ox = getComputedStyle(e).overflowX;
        if (ox !== 'visible') return e;
      }
      return null;
    };

    // 1. Elements past the viewport. Report the outermost offender of each chain only.
    const all = [...document.body.querySelectorAll('*')];
    const beyond = new Set();
    for (const el of all) {
      if (el.closest('svg') && el.localName !== 'svg') continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > vw + 0.5 || r.left < -0.5) beyond.add(el);
    }
    const pageOverflow = [], clipped = new Map();
    for (const el of beyond) {
      if (el.parentElement && beyond.has(el.parentElement)) continue;
      const r = el.getBoundingClientRect();
      const c = clipper(el);
      const item = { selector: sel(el), left: r1(r.left), right: r1(r.right), width: r1(r.width), text: text(el) };
      if (c) {
        const k = sel(c);
        if (!clipped.has(k)) clipped.set(k, []);
        clipped.get(k).push(item);
      } else pageOverflow.push(item);
    }
    // 2. Regions that scroll sideways inside the page (the reader must swipe inside them).
    const scrollRegions = [];
    for (const el of all) {
      const ox = getComputedStyle(el).overflowX;
      if (!['auto', 'scroll'].includes(ox)) continue;
      if (el.scrollWidth > el.clientWidth + 1 && visible(el)) {
        let ctx = el.previousElementSibling;
        while (ctx && !/^h[1-6]$/.test(ctx.localName)) ctx = ctx.previousElementSibling;
        scrollRegions.push({ selector: sel(el), scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
          hiddenPx: el.scrollWidth - el.clientWidth, heading: ctx ? text(ctx) : '',
          focusable: el.tabIndex >= 0 });
      }
    }

    // 3. Smallest font in tables: every visible, non-empty text node inside a <table>.
    const tableSizes = new Map();
    let tableMin = null;
    for (const table of document.querySelectorAll('table')) {
      const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.data.trim()) continue;
        const el = n.parentElement;
        if (!visible(el)) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const rr = range.getBoundingClientRect();
        if (rr.width === 0) continue;
        const px = parseFloat(getComputedStyle(el).fontSize);
        const key = r1(px);
        tableSizes.set(key, (tableSizes.get(key) || 0) + 1);
        if (!tableMin || px < tableMin.px) tableMin = { px: r1(px), lineBoxPx: r1(rr.height), selector: sel(el), text: n.data.trim().slice(0, 60) };
      }
    }

    // 4. Smallest text in SVG figures, as rendered. Inline <svg> is measured in place; an
    //    <img> of an SVG is re-created inline at the image's rendered size and measured there.
    const figures = [];
    const measureSvg = (svg) => {
      const items = [];
      const ctm = svg.getScreenCTM();
      const box = svg.getBoundingClientRect();
      // Text cut off by the figure's edge (e.g. a legend wider than the figure).
      const outside = (rect) => rect.width > 0 && (rect.left < box.left - 1 || rect.right > box.right + 1 ||
        rect.top < box.top - 1 || rect.bottom > box.bottom + 1);
      // (a) real text
      for (const t of svg.querySelectorAll('text')) {
        if (!(t.textContent || '').trim()) continue;
        const m = t.getScreenCTM() || ctm;
        const scale = m ? Math.hypot(m.a, m.b) : 1;
        const fs = parseFloat(getComputedStyle(t).fontSize) * scale;
        const rect = t.getBoundingClientRect();
        items.push({ kind: 'text', px: fs, inkPx: rect.height, text: t.textContent.trim().slice(0, 50), outside: outside(rect) });
      }
      // (b) matplotlib "svg.fonttype: path" text: <g transform="translate(..) scale(s -s)">
      //     holding <use>/<path> glyphs; the font size in user units is s × 100.
      for (const g of svg.querySelectorAll('g[transform*="scale("]')) {
        if (!g.querySelector(':scope > use, :scope > path') || g.closest('defs')) continue;
        const m = /scale\(\s*([-\d.eE]+)/.exec(g.getAttribute('transform'));
        if (!m) continue;
        const s = Math.abs(parseFloat(m[1]));
        const gm = g.parentElement.getScreenCTM() || ctm;
        const scale = gm ? Math.hypot(gm.a, gm.b) : 1;
        let label = '';
        for (let c = g.parentElement.firstChild; c; c = c.nextSibling) {
          if (c.nodeType === 8) { label = c.data.trim(); break; }
        }
        const rect = g.getBoundingClientRect();
        items.push({ kind: 'glyph-paths', px: s * 100 * scale, inkPx: rect.height, text: label.slice(0, 50), outside: outside(rect) });
      }
      return items;
    };
    const summarise = (items) => {
      if (!items.length) return null;
      const min = items.reduce((a, b) => (b.px < a.px ? b : a));
      const minInk = items.reduce((a, b) => (b.inkPx < a.inkPx ? b : a));
      return { minFontPx: r1(min.px), minFontText: min.text, minInkPx: r1(minInk.inkPx),
        minInkText: minInk.text, textItems: items.length,
        below12px: items.filter((i) => i.px < 12 - 1e-6).length,
        cutOff: items.filter((i) => i.outside).map((i) => i.text),
        textKinds: [...new Set(items.map((i) => i.kind))] };
    };
    let index = 0;
    for (const svg of document.querySelectorAll('svg')) {
      if (svg.parentElement && svg.parentElement.closest('svg')) continue;
      const r = svg.getBoundingClientRect();
      figures.push({ index: index++, source: 'inline-svg', selector: sel(svg), renderedWidth: r1(r.width), ...summarise(measureSvg(svg)) });
    }
    const host = document.createElement('div');
    host.setAttribute('aria-hidden', 'true');
    host.style.cssText = 'position:absolute;left:0;top:0;visibility:hidden;pointer-events:none;';
    document.body.appendChild(host);
    for (const img of document.querySelectorAll('img')) {
      const src = img.getAttribute('src') || '';
      let svgText = null;
      try {
        if (src.startsWith('data:image/svg+xml')) {
          const comma = src.indexOf(',');
          const meta = src.slice(0, comma);
          const body = src.slice(comma + 1);
          if (/;base64/.test(meta)) {
            const bin = atob(body);
            const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
            svgText = new TextDecoder('utf-8').decode(bytes);
          } else svgText = decodeURIComponent(body);
        } else if (/\.svg(\?|#|$)/i.test(src)) {
          svgText = await (await fetch(img.src)).text();
        }
      } catch (e) { svgText = null; }
      if (!svgText) continue;
      const r = img.getBoundingClientRect();
      const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml');
      const svg = document.importNode(parsed.documentElement, true);
      if (svg.localName !== 'svg') continue;
      if (!svg.getAttribute('viewBox') && svg.getAttribute('width') && svg.getAttribute('height')) {
        svg.setAttribute('viewBox', `0 0 ${parseFloat(svg.getAttribute('width'))} ${parseFloat(svg.getAttribute('height'))}`);
      }
      svg.setAttribute('width', `${r.width}px`);
      svg.setAttribute('height', `${r.height}px`);
      // The id attributes of two figures may collide: only one figure is in the page at a time.
      host.replaceChildren(svg);
      const s = summarise(measureSvg(svg));
      figures.push({ index: index++, source: 'img', selector: sel(img), alt: (img.alt || '').slice(0, 70),
        renderedWidth: r1(r.width), intrinsicWidth: img.naturalWidth, bytes: src.length, ...s });
      host.replaceChildren();
    }
    host.remove();
    // 5. The status table as cards: every indicator row shows its indicator, latest value and
    //    status inside the viewport, one row per card (display: block), nothing off-screen.
    const statusCards = { rows: 0, stacked: 0, offScreen: [] };
    for (const tr of document.querySelectorAll('table.status-table tbody tr')) {
      const head = tr.querySelector('th[scope="row"]');
      if (!head) continue;
      statusCards.rows++;
      if (getComputedStyle(tr).display === 'block') statusCards.stacked++;
      const parts = [head, tr.querySelector('td[data-label="Seneste måling"]'),
        tr.querySelector('td[data-label="Status"]')];
      for (const el of parts) {
        const r = el ? el.getBoundingClientRect() : null;
        if (!el || !visible(el) || r.width === 0 || r.left < -0.5 || r.right > vw + 0.5) {
          statusCards.offScreen.push({ row: text(head), cell: el ? el.getAttribute('data-label') || 'Indikator' : 'missing' });
        }
      }
    }
    const withText = figures.filter((f) => f.minFontPx != null);
    const svgMin = withText.length ? withText.reduce((a, b) => (b.minFontPx < a.minFontPx ? b : a)) : null;
    const inkMin = withText.length ? withText.reduce((a, b) => (b.minInkPx < a.minInkPx ? b : a)) : null;

    return {
      viewportWidth: vw,
      documentScrollWidth: doc.scrollWidth,
      pageScrollsSideways: doc.scrollWidth > vw,
      pageOverflow: pageOverflow.slice(0, 30),
      pageOverflowCount: pageOverflow.length,
      clippedInScrollRegions: [...clipped.entries()].map(([container, items]) => ({ container, count: items.length, first: items[0] })),
      scrollRegions,
      sidewaysScrollNeeded: doc.scrollWidth > vw || scrollRegions.length > 0,
      minFont: {
        table: tableMin,
        tableSizes: Object.fromEntries([...tableSizes.entries()].sort((a, b) => a[0] - b[0])),
        svg: svgMin && { px: svgMin.minFontPx, text: svgMin.minFontText, figure: svgMin.index, alt: svgMin.alt },
        svgInk: inkMin && { px: inkMin.minInkPx, text: inkMin.minInkText, figure: inkMin.index },
      },
      figures: figures.map((f) => ({ index: f.index, source: f.source, renderedWidth: f.renderedWidth,
        minFontPx: f.minFontPx ?? null, minInkPx: f.minInkPx ?? null, below12px: f.below12px ?? 0,
        textItems: f.textItems ?? 0, textKinds: f.textKinds ?? [], cutOff: f.cutOff ?? [],
        bytes: f.bytes ?? null, alt: f.alt ?? '' })),
      svgTextCutOff: figures.reduce((n, f) => n + (f.cutOff ? f.cutOff.length : 0), 0),
      statusCards,
    };
  });
}

// ---------------------------------------------------------------------------------- driver

async function checkFile(ctx, file, o) {
  const abs = path.resolve(file);
  const res = { file: abs, bytes: fs.statSync(abs).size };
  const url = pathToFileURL(abs).href;
  const page = await ctx.newPage();
  // The briefs are self-contained: any request other than the file itself is a defect.
  const external = [];
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
    external.push(u);
    return route.abort();
  });
  try {
    await page.setViewportSize(DESKTOP);
    await page.goto(url, { waitUntil: 'load' });
    res.title = await page.title();
    const axeLists = [];
    if (o.axe && o.axeViewports.includes('desktop')) axeLists.push(await runAxe(page, 'desktop'));
    if (o.phone || (o.axe && o.axeViewports.includes('phone'))) {
      await page.setViewportSize({ width: o.width, height: 844 });
      // The phone pass sees every <details> open: the figures' data tables are checked too
      // (the desktop pass sees them closed, as a reader first does).
      res.detailsOpened = await page.evaluate(() => {
        const all = [...document.querySelectorAll('details')];
        all.forEach((d) => { d.open = true; });
        return all.length;
      });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      if (o.axe && o.axeViewports.includes('phone')) axeLists.push(await runAxe(page, 'phone'));
      if (o.phone) res.phone = await phoneChecks(page);
    }
    if (o.axe) {
      res.axe = { tags: AXE_TAGS, viewports: o.axeViewports, violations: mergeViolations(axeLists, o.maxNodes) };
      res.axe.violationNodes = res.axe.violations.reduce((s, v) => s + v.count, 0);
      res.axe.counts = Object.fromEntries(res.axe.violations.map((v) => [v.id, v.count]));
    }
    if (o.pdf) {
      await page.setViewportSize(DESKTOP);
      fs.mkdirSync(o.out, { recursive: true });
      const pdfPath = path.resolve(o.out, path.basename(abs).replace(/\.html?$/i, '') + '.pdf');
      await page.pdf({ path: pdfPath, format: 'A4', printBackground: true });
      res.pdf = { path: pdfPath, bytes: fs.statSync(pdfPath).size };
    }
    res.externalRequests = external;
  } finally {
    await page.close();
  }
  return res;
}

// Exit only after stdout is flushed: a pipe write is asynchronous and a large JSON would be cut.
function emit(out, code) {
  process.stdout.write(JSON.stringify(out, null, 2) + '\n', () => process.exit(code));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  const out = { tool: { ...VERSIONS, node: process.version, chromium: executablePath }, pages: [], errors: [] };
  const missing = o.files.filter((f) => !fs.existsSync(f));
  for (const f of missing) out.errors.push({ file: f, error: 'no such file' });
  if (!fs.existsSync(executablePath)) {
    out.errors.push({ error: `Chromium not found at ${executablePath} (set CHROMIUM)` });
    return emit(out, 2);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyse-chromium-'));
  let ctx;
  let failed = false;
  try {
    ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath, headless: true, args: CHROMIUM_ARGS, viewport: DESKTOP,
      deviceScaleFactor: 1, locale: 'da-DK', offline: true, timeout: 60000,
    });
    out.tool.chromiumVersion = ctx.browser()?.version() ?? null;
    for (const f of o.files) {
      if (missing.includes(f)) continue;
      try {
        const r = await checkFile(ctx, f, o);
        out.pages.push(r);
      } catch (e) {
        out.errors.push({ file: f, error: String(e && e.stack || e) });
      }
    }
  } catch (e) {
    out.errors.push({ error: `browser failed: ${e && e.message || e}` });
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  const failures = [];
  for (const p of out.pages) {
    const name = path.basename(p.file);
    if (p.axe && p.axe.violations.length) failures.push(`${name}: ${p.axe.violations.length} axe rule(s) violated`);
    if (o.failOnOverflow && p.phone && p.phone.sidewaysScrollNeeded) failures.push(`${name}: sideways scrolling at ${o.width} px`);
    if (o.minFont != null && p.phone) {
      const t = p.phone.minFont.table?.px, s = p.phone.minFont.svg?.px;
      if (t != null && t < o.minFont) failures.push(`${name}: table text ${t} px < ${o.minFont} px`);
      if (s != null && s < o.minFont) failures.push(`${name}: SVG text ${s} px < ${o.minFont} px`);
    }
    if (o.failOnCutoff && p.phone && p.phone.svgTextCutOff) failures.push(`${name}: ${p.phone.svgTextCutOff} SVG text(s) cut off at the figure edge`);
    if (p.externalRequests && p.externalRequests.length) failures.push(`${name}: ${p.externalRequests.length} external request(s)`);
  }
  out.summary = {
    pages: out.pages.length,
    violations: Object.fromEntries(out.pages.map((p) => [path.basename(p.file), p.axe ? p.axe.counts : null])),
    failures,
    errors: out.errors.length,
  };
  failed = failures.length > 0;
  out.ok = !failed && out.errors.length === 0;
  return emit(out, out.errors.length ? 2 : failed ? 1 : 0);
}

main();
