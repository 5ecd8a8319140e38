import { chromium } from 'playwright-core';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const [file, out, width = '1280', full = '1'] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const p = await b.newPage({ viewport: { width: Number(width), height: 900 } });
await p.goto(pathToFileURL(path.resolve(file)).href);
await p.screenshot({ path: out, fullPage: full === '1' });
await b.close();
