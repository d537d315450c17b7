// kabinet's real-browser check: what a person sees in headless Chromium (Debian's
// `chromium` package) on the local gateway.
//
//   node check.mjs <plan.json>
//
// The plan (written by the HTTP test tests/tests/api/browser.rs): `base` (the gateway),
// `token` (a dev ID token), `email` (the token's), `operations` (["GET /v1/me", ...]: the
// route table), `mail` ({to, subject, phrases}: one sent email), `out` (a folder for the
// screenshots). Checks, failing with a message that says what a person would have seen:
// - /docs renders (its screenshot is not blank), with no failed request and no script
//   error; its operation list holds exactly the route table's operations;
// - "Test Request" of GET /v1/me, with the token pasted once under Authentication,
//   answers 200 in the page; after a reload the token is still there;
// - /_local/mail.html shows the email: its subject and its Cyrillic text, in the text
//   part and in the rendered HTML part.
// Prints one line per check passed.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(plan.out, { recursive: true });

/** Debian's package, or what CHROMIUM names. */
function chromium() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    fail(`no Chromium at ${candidates.join(', ')}: install Debian's chromium package (.ci/run does), or set CHROMIUM`);
  }
  return found;
}

function fail(message) {
  console.error(`browser check failed: ${message}`);
  process.exit(1);
}

function check(ok, message) {
  if (!ok) fail(message);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `probe` answers something truthy; answers it. */
async function until(what, probe, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > end) fail(`${what}: not seen within ${ms / 1000} s`);
    await sleep(100);
  }
}

/** How much of a screenshot is drawn: the share of pixels unlike its most common colour,
 * and how many colours it has. The page itself decodes the PNG (a canvas), so no image
 * library is needed. */
async function drawn(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const g = canvas.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, img.width, img.height).data;
    const counts = new Map();
    for (let i = 0; i < px.length; i += 4) {
      const c = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
      counts.set(c, (counts.get(c) || 0) + 1);
    }
    const background = Math.max(...counts.values());
    const total = px.length / 4;
    return { inked: (total - background) / total, colours: counts.size };
  }, Buffer.from(png).toString('base64'));
}

async function screenshot(page, name, element) {
  const path = join(plan.out, name);
  const png = await (element || page).screenshot({ path });
  const { inked, colours } = await drawn(page, png);
  check(inked > 0.02 && colours > 16, `${name} looks blank (${(inked * 100).toFixed(1)}% drawn, ${colours} colours)`);
  return { path, inked };
}

/** Every failed request, script error, console error and Content-Security-Policy
 * violation of a page, to be checked empty. The one allowed: the viewer probes once
 * whether `eval` is allowed (the policy says no) and does without. */
async function watch(page) {
  const problems = [];
  const evalProbe = (text) => /unsafe-eval|evaluate a string as JavaScript/.test(text);
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !evalProbe(m.text()) && !/blocked eval$/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
  });
  return problems;
}

const browser = await puppeteer.launch({
  executablePath: chromium(),
  headless: true,
  // Root in a container: no sandbox; nothing of the browser's own services.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  await docsPage();
  await mailPage();
} finally {
  await browser.close();
}

async function docsPage() {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const problems = await watch(page);
  await page.goto(`${plan.base}/docs`, { waitUntil: 'networkidle0' });
  await until('the reference page\'s operation list', () => page.$('li[data-sidebar-id] a[href^="#tag/"]'));
  const shot = await screenshot(page, 'docs.png');
  console.log(`docs: renders (${(shot.inked * 100).toFixed(0)}% of ${shot.path} drawn)`);

  // The areas open one by one, as a reader would: each clicked once, then seen open.
  const labels = () => page.$$eval('button .sr-only', (ss) => ss.map((s) => s.textContent.trim()));
  for (let n = 0; n < 100; n++) {
    const closed = (await labels()).find((l) => l.startsWith('Open Group - '));
    if (!closed) break;
    const area = closed.slice('Open Group - '.length);
    await page.$$eval('button', (bs, label) =>
      bs.find((b) => b.querySelector('.sr-only')?.textContent.trim() === label)?.click(), closed);
    await until(`the area "${area}" open`, async () => (await labels()).includes(`Close Group - ${area}`));
  }
  const links = await page.$$eval('li[data-sidebar-id] > a[href^="#tag/"]', (as) => as.map((a) => a.getAttribute('href')));
  const listed = new Set();
  for (const href of links) {
    const m = /^#tag\/[^/]+\/(GET|POST|PUT|PATCH|DELETE)(\/.*)$/i.exec(decodeURIComponent(href));
    if (m) listed.add(`${m[1].toUpperCase()} ${m[2]}`);
  }
  const expected = new Set(plan.operations);
  const missing = [...expected].filter((o) => !listed.has(o));
  const extra = [...listed].filter((o) => !expected.has(o));
  check(missing.length === 0 && extra.length === 0,
    `the page lists ${listed.size} operations, the route table has ${expected.size}; missing ${JSON.stringify(missing)}, not routes ${JSON.stringify(extra)}`);
  console.log(`docs: ${listed.size} operations listed, as many as the route table`);

  // "Try it": the token pasted once under Authentication, then GET /v1/me sent.
  await page.type('input[placeholder="Token"]', plan.token);
  const first = await tryMe(page, 'try-it.png');
  console.log(`docs: try-it GET /v1/me answered ${first} in the page, with the pasted token`);

  // The token is kept: after a reload the same call needs no pasting.
  await page.reload({ waitUntil: 'networkidle0' });
  await until('the operation list after a reload', () => page.$('a[href="#tag/me/GET/v1/me"]'));
  const again = await tryMe(page, 'try-it-again.png');
  console.log(`docs: after a reload try-it answered ${again} with the kept token`);
  check(problems.length === 0, `the reference page had problems: ${problems.join('; ')}`);
  await page.close();
}

/** Opens GET /v1/me's "Test Request" and sends it; answers the status shown, checked 200
 * with the profile in the page and the bearer token on the wire. */
async function tryMe(page, shotName) {
  await page.click('a[href="#tag/me/GET/v1/me"]');
  const test = await until('GET /v1/me\'s "Test Request" button', async () =>
    (await page.$$('xpath/.//button[contains(normalize-space(.), "Test Request") and contains(., "get /v1/me)")]'))[0]);
  await test.click();
  const send = await until('the API client\'s Send button', async () =>
    (await page.$$('xpath/.//button[contains(normalize-space(.), "Send get request to")]'))[0]);
  const answered = page.waitForResponse((r) => r.url() === `${plan.base}/v1/me` && r.request().method() === 'GET', { timeout: 60000 });
  await send.click();
  const response = await answered;
  check(response.request().headers().authorization === `Bearer ${plan.token}`, 'try-it sent GET /v1/me without the pasted token');
  check(response.status() === 200, `try-it GET /v1/me answered ${response.status()}: ${await response.text()}`);
  const shown = await until('the answer in the API client', async () => {
    const text = await page.evaluate(() => document.body.innerText);
    return text.includes('200 OK') && text.includes(plan.email) ? text : null;
  });
  check(shown, 'the page does not show 200 OK and the profile');
  await screenshot(page, shotName);
  return response.status();
}

async function mailPage() {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const problems = await watch(page);
  await page.goto(`${plan.base}/_local/mail.html`, { waitUntil: 'networkidle0' });
  const { to, subject, phrases } = plan.mail;
  // The emulator is shared by the tests running alongside: the email is found by its recipient.
  const article = await until(`an email to ${to} on the mail page`, async () => {
    for (const a of await page.$$('article')) {
      if ((await a.evaluate((e) => e.innerText)).includes(to)) return a;
    }
    return null;
  });
  const heading = await article.$eval('h2', (h) => h.innerText.trim());
  check(heading === subject, `the mail page shows the subject ${JSON.stringify(heading)}, the email's is ${JSON.stringify(subject)}`);
  const text = await article.$eval('pre', (p) => p.innerText);
  for (const phrase of phrases) {
    check(text.includes(phrase), `the mail page's text part lacks ${JSON.stringify(phrase)}: ${text.slice(0, 300)}`);
  }
  // The HTML part, as the recipient's mail program renders it (a sandboxed frame).
  await article.$eval('details:nth-of-type(2)', (d) => { d.open = true; });
  const frame = await until('the email\'s HTML part', async () => {
    const handle = await article.$('iframe');
    return handle && (await handle.contentFrame());
  });
  const rendered = await until('the HTML part\'s text', () => frame.evaluate(() => document.body && document.body.innerText));
  for (const phrase of phrases) {
    check(rendered.includes(phrase), `the email's HTML part lacks ${JSON.stringify(phrase)}: ${rendered.slice(0, 300)}`);
  }
  await article.evaluate((e) => e.scrollIntoView());
  const shot = await screenshot(page, 'mail.png', article);
  console.log(`mail: "${subject}" with its Cyrillic text (text and HTML parts) in ${shot.path}`);
  check(problems.length === 0, `the mail page had problems: ${problems.join('; ')}`);
  await page.close();
}
