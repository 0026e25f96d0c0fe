// Shared pieces of the console's browser tests: the browser, the local stack's API and
// sign-in, the checks every screen gets (axe, a screenshot that is not blank, the policy on
// every console response, no policy violation in the console log), and polling to a
// deadline (never a fixed sleep).

import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const ORIGIN = required('CONSOLE_ORIGIN');
export const API = `${ORIGIN}/api/v1`;
export const OUT = required('CONSOLE_E2E_OUT');
const BROWSER = required('CONSOLE_BROWSER');
const DOCS = process.env.CONSOLE_DOCS_DIR ?? '';
/**
 * How long a console file may go unanswered by the local emulator before it is asked again
 * (once): a third of the 30 s a page's navigation may take, so the retry fits inside it.
 */
const UNANSWERED_FILE_MS = 10_000;

export const POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; require-trusted-types-for 'script'; " +
  "trusted-types 'none'";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run infra/scripts/browser.sh)`);
  return value;
}

/** Headless Chromium: the Debian binary (or CONSOLE_BROWSER), nothing fetched from outside. */
export async function launch() {
  return chromium.launch({
    executablePath: BROWSER,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh context (its own sessionStorage) that records what the checks need: every
 * console response's policy header, every API call, console messages and page errors.
 * Requests leaving the machine (the local provider's page links a CDN stylesheet) are
 * refused.
 */
export async function openContext(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    ...options,
  });
  const record = { consoleResponses: [], apiCalls: [], messages: [], errors: [] };
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => route.abort());
  // cargo lambda watch (the local stand-in for API Gateway + Lambda) now and then answers a
  // console file with its own 500, or not at all, when the browser fetches several at once
  // from one function instance; API Gateway does not. One retry of the file (a GET),
  // reported with the results.
  record.retried = [];
  const isConsole = (url) =>
    url.origin === ORIGIN && (url.pathname === '/console' || url.pathname.startsWith('/console/'));
  const fetchFile = (route) => route.fetch({ maxRedirects: 0, timeout: UNANSWERED_FILE_MS });
  await context.route(isConsole, async (route) => {
    const path = new URL(route.request().url()).pathname;
    let response;
    try {
      response = await fetchFile(route);
    } catch (error) {
      if (error?.name !== 'TimeoutError') throw error;
      record.retried.push(`left ${path} unanswered`);
      response = await fetchFile(route);
    }
    if (response.status() === 500) {
      record.retried.push(`answered 500 for ${path}`);
      response = await fetchFile(route);
    }
    await route.fulfill({ response });
  });
  // The browser reports each policy violation to the page as an event; log them loudly.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`policy violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  context.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin !== ORIGIN) return;
    if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
      record.consoleResponses.push({
        url: url.pathname,
        status: response.status(),
        csp: response.headers()['content-security-policy'],
        referrer: response.headers()['referrer-policy'],
        nosniff: response.headers()['x-content-type-options'],
      });
    }
  });
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === ORIGIN && url.pathname.startsWith('/api/')) {
      record.apiCalls.push(`${request.method()} ${url.pathname}`);
    }
  });
  const page = await context.newPage();
  page.on('console', (message) => record.messages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => record.errors.push(String(error)));
  return { context, page, record };
}

/** Every console response carried the policy; no violation or page error was reported. */
export function assertPolicyKept(record) {
  assert.ok(record.consoleResponses.length > 0, 'the console was loaded');
  for (const r of record.consoleResponses) {
    assert.equal(r.csp, POLICY, `Content-Security-Policy on ${r.url} (${r.status})`);
    assert.equal(r.referrer, 'no-referrer', `Referrer-Policy on ${r.url}`);
    assert.equal(r.nosniff, 'nosniff', `X-Content-Type-Options on ${r.url}`);
  }
  const violations = record.messages.filter((m) =>
    /policy violation|Content Security Policy|Trusted Type|TrustedHTML|TrustedScript/i.test(m),
  );
  assert.deepEqual(violations, [], 'no policy violation in the console log');
  assert.deepEqual(record.errors, [], 'no uncaught error in the page');
}

/** Polls `probe` until it returns a truthy value or `timeout` ms pass (backing off). */
export async function poll(probe, { timeout = 30_000, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  const intervals = [100, 250, 500, 1000];
  let attempt = 0;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message} (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervals[Math.min(attempt++, intervals.length - 1)]));
  }
}

// ---- screens: axe and screenshots ----------------------------------------------------------

const screenshots = [];

/** axe (WCAG 2.1 A and AA) finds nothing, and a full-page screenshot is saved and not blank. */
export async function checkScreen(page, name, { docs = false } = {}) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  assert.deepEqual(found, [], `axe on "${name}"`);
  mkdirSync(join(OUT, 'screenshots'), { recursive: true });
  const png = await page.screenshot({ fullPage: true });
  const path = join(OUT, 'screenshots', `${name}.png`);
  writeFileSync(path, png);
  assertNotBlank(png, name);
  screenshots.push(path);
  if (docs && DOCS) {
    mkdirSync(DOCS, { recursive: true });
    writeFileSync(join(DOCS, `${name}.png`), await page.screenshot({ fullPage: false }));
  }
  return path;
}

/** Decodes an 8-bit RGB/RGBA PNG (what Chromium writes) and counts its distinct colours. */
export function assertNotBlank(png, name) {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const depth = png[24];
  const colourType = png[25];
  assert.equal(depth, 8, `${name}: 8-bit PNG`);
  const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  assert.ok(channels > 0, `${name}: RGB(A) PNG`);
  const idat = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const line = Buffer.alloc(stride);
  const colours = new Set();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let v = src[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[x] = v & 0xff;
    }
    if (y % 4 === 0) {
      for (let x = 0; x < width; x += 4) {
        const i = x * channels;
        colours.add((line[i] << 16) | (line[i + 1] << 8) | line[i + 2]);
      }
    }
    line.copy(prev);
  }
  assert.ok(colours.size >= 8, `${name}: the screenshot is not blank (${colours.size} colours)`);
}

// ---- the API, as a customer would use it -------------------------------------------------

/** Signs `sub` in through the local OpenID provider as a client of the API would. */
export async function apiSignIn(sub) {
  const login = await (await fetch(`${API}/auth/google/login`)).json();
  const authorize = await fetch(login.authorization_url, {
    method: 'POST',
    body: new URLSearchParams({ sub }),
    redirect: 'manual',
  });
  const callback = authorize.headers.get('location');
  assert.ok(callback, `the provider redirected (${authorize.status})`);
  const token = await (await fetch(callback)).json();
  assert.ok(token.access_token, 'an access token');
  return token.access_token;
}

export async function api(token, method, path, body) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Whether a route is deployed in this stack at all (the local router knows its path). */
export async function routeExists(token, path) {
  const response = await fetch(`${API}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const type = response.headers.get('content-type') ?? '';
  return !(response.status === 404 && !type.includes('problem+json'));
}

// ---- the M-Pesa stand-in (devstack mpesa-sandbox) -----------------------------------------

/** The stack's environment file (.local/console-e2e/dev.env): KEY=VALUE lines. */
export function devEnv() {
  const file = required('CONSOLE_DEV_ENV');
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0 && !line.startsWith('#')) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** POSTs `body` to a Daraja path of the stand-in, with a token from its OAuth route. */
export async function mpesa(path, body) {
  const env = devEnv();
  const basic = Buffer.from(`${env.MPESA_CONSUMER_KEY}:${env.MPESA_CONSUMER_SECRET}`).toString('base64');
  const oauth = await fetch(`${env.MPESA_BASE_URL}/oauth/v1/generate?grant_type=client_credentials`, {
    headers: { authorization: `Basic ${basic}` },
  });
  assert.equal(oauth.status, 200, 'the stand-in issued a token');
  const { access_token: token } = await oauth.json();
  const response = await fetch(`${env.MPESA_BASE_URL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A payment to the shop's Paybill from the payer's own phone, naming `account`. */
export async function payPaybill(account, amount, msisdn = '254712345678') {
  const paid = await mpesa('/mpesa/c2b/v1/simulate', {
    ShortCode: devEnv().MPESA_SHORTCODE,
    CommandID: 'CustomerPayBillOnline',
    Amount: amount,
    Msisdn: msisdn,
    BillRefNumber: account,
  });
  assert.equal(paid.status, 200, `the stand-in took the Paybill payment: ${JSON.stringify(paid.body)}`);
  return paid.body;
}

/** The callbacks the stand-in posted (`GET /deliveries`), oldest first. */
export async function mpesaDeliveries() {
  const response = await fetch(`${devEnv().MPESA_BASE_URL}/deliveries`);
  assert.equal(response.status, 200, 'the stand-in lists its deliveries');
  return response.json();
}

/**
 * A Paybill payment whose account number names no order, confirmed by M-Pesa: the
 * stand-in asks our validation first, which refuses an account naming no order
 * (`C2B00012`), and then confirms nothing. M-Pesa confirms such a payment all the same when
 * the Paybill does not ask for validation, or when the validation does not answer (the
 * URLs are registered `Completed`): that confirmation, the validation's own message with the
 * balance filled in, is posted here to the confirmation URL the stand-in was given.
 * Returns the receipt (M-Pesa's `TransID`).
 */
export async function unmatchedPaybill(account, amount) {
  await payPaybill(account, amount);
  const validation = await poll(
    async () =>
      (await mpesaDeliveries()).find((d) => d.kind === 'c2b_validation' && d.body?.BillRefNumber === account),
    { message: `the stand-in's validation of ${account}` },
  );
  // Our validation writes nothing: asking it again says what the stand-in was told.
  const verdict = await fetch(validation.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(validation.body),
  });
  const answer = await verdict.json();
  if (String(answer.ResultCode) !== '0') {
    const confirmation = validation.url.replace(/\/c2b\/validation$/, '/c2b/confirmation');
    assert.notEqual(confirmation, validation.url, `a validation URL: ${validation.url}`);
    const confirmed = await fetch(confirmation, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...validation.body, OrgAccountBalance: `${amount}.00` }),
    });
    assert.equal(confirmed.status, 200, 'the confirmation was accepted');
  }
  return validation.body.TransID;
}

// ---- the console --------------------------------------------------------------------------

/** Signs in through the console's own redirect to the local provider, as `sub`. */
export async function consoleSignIn(page, sub) {
  await page.goto(`${ORIGIN}/console`);
  await page.getByRole('button', { name: 'Sign in with Google' }).click();
  await page.waitForURL(/\/oauth2\/authorize/);
  await page.locator(`button[name="sub"][value="${sub}"]`).click();
  await page.waitForURL((url) => url.pathname.startsWith('/console') && !url.pathname.startsWith('/console/callback'));
}

/**
 * Runs `body` with a fresh context; on failure saves a screenshot of where it stopped and
 * reports the console log, the API calls and the console responses (node --test prints
 * them as diagnostics), then rethrows. The context is always closed.
 */
export async function withContext(browser, t, name, body) {
  const { context, page, record } = await openContext(browser);
  try {
    await body({ context, page, record });
    for (const what of record.retried) t.diagnostic(`the local emulator once ${what} (retried)`);
  } catch (error) {
    try {
      mkdirSync(join(OUT, 'screenshots'), { recursive: true });
      await page.screenshot({ path: join(OUT, 'screenshots', `FAILED-${name}.png`), fullPage: true });
    } catch {
      // The page may be gone; the report below still helps.
    }
    t.diagnostic(`stopped at ${page.url()}`);
    for (const m of record.messages.slice(-20)) t.diagnostic(`console ${m}`);
    for (const e of record.errors) t.diagnostic(`page error ${e}`);
    for (const c of record.apiCalls.slice(-20)) t.diagnostic(`api ${c}`);
    for (const r of record.consoleResponses.slice(-10)) t.diagnostic(`console response ${r.status} ${r.url}`);
    throw error;
  } finally {
    await context.close();
  }
}
