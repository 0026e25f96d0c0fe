// The back-office console in headless Chromium against a local stack (make dev's, on free
// ports: infra/scripts/browser.sh starts it and sets CONSOLE_ORIGIN). Run by `make test`.
//
// 1. As the local admin, signed in through the console's own redirect: create a category
//    and a product (a 422 shown at its field first), its stock adjusted and split over
//    four buckets (a count the API refuses shown at its field first, the stock total kept,
//    the change in its history); a customer places two orders through the API; one is
//    advanced to DELIVERED step by step, the other cancelled (its stock comes back on the
//    product page); every message of the first (confirmation SMS and email, shipped,
//    delivered) is seen sent, and every text delivered (the SMS stand-in's reports); the
//    history holds those changes, each named (an order by its number); the orders CSV has
//    both rows with the customer's name and e-mail.
// 2. Bulk: three orders advanced at once, one refused by the API (cancelled behind the
//    console's back), each row's result shown.
// 3. M-Pesa: on an order's page, a prompt the API refuses (a bad number: 422 at the field;
//    a prompt sent behind the console's back: 409) is shown in words, one the payer
//    cancels fails, and one that succeeds (the stand-in's callback, about a second later)
//    pays and confirms the order while the page watches; the orders list filtered by
//    payment status; the Payments screen: a Paybill payment naming no order is assigned to
//    an order (an order number and an unknown id refused first), which then holds it and,
//    overpaid, is listed as needing attention.
// 4. The local customer (not an admin) sees "admins only", and the console calls nothing
//    beyond /customer/me.
// 5. A real failed notification: with the customer's number one the stack's SMS stand-in
//    refuses as blacklisted, an order is confirmed and shipped; with one it accepts but
//    reports undelivered (its delivery report posted to the API), another is confirmed;
//    once the notifier and the report are done (the number then restored), the
//    Notifications screen lists both orders with each failed message and its reason in
//    words, and the order's Messages show them.
// Every screen: axe (WCAG 2.1 A + AA) finds nothing and a non-blank screenshot is saved
// under $CONSOLE_E2E_OUT/screenshots; every console response carries the policy and the
// console log reports no violation.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ORIGIN,
  OUT,
  api,
  apiSignIn,
  assertPolicyKept,
  checkScreen,
  consoleSignIn,
  launch,
  poll,
  routeExists,
  unmatchedPaybill,
  withContext,
} from './support.mjs';

const RUN = Date.now().toString(36).toUpperCase();
let browser;
let customerToken;
let adminToken;
let customerId;
let haveAudit = false;
let haveCustomers = false;

before(async () => {
  browser = await launch();
  customerToken = await apiSignIn('customer');
  adminToken = await apiSignIn('admin');
  const me = await api(customerToken, 'PATCH', '/customer/me', { phone_number: '0712345678' });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  customerId = me.body.id;
  haveAudit = await routeExists(adminToken, '/audit');
  haveCustomers = await routeExists(adminToken, `/customers/${customerId}`);
});

after(async () => {
  await browser?.close();
});

async function placeOrder(productId, quantity, extra = {}) {
  const order = await api(customerToken, 'POST', '/orders', {
    items: [{ product_id: productId, quantity }],
    delivery_address: 'Moi Avenue 1, Nairobi',
    ...extra,
  });
  assert.equal(order.status, 201, JSON.stringify(order.body));
  return order.body;
}

async function heading(page, name) {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
}

describe('the back-office console', () => {
  const state = {};

  it('signs the admin in through its own redirect and runs the shop', async (t) =>
    withContext(browser, t, 'admin', async ({ page, record }) => {
      await page.goto(`${ORIGIN}/console`);
      await page.getByRole('button', { name: 'Sign in with Google' }).waitFor();
      await checkScreen(page, '01-sign-in', { docs: true });

      await consoleSignIn(page, 'admin');
      await heading(page, 'Orders');
      assert.ok(!page.url().includes('code='), `the code left the address bar: ${page.url()}`);
      assert.equal(new URL(page.url()).pathname, '/console');
      const stored = await page.evaluate(() => [sessionStorage.getItem('console.token'), localStorage.length]);
      assert.ok(stored[0], 'the token is kept in sessionStorage');
      assert.equal(stored[1], 0, 'nothing in localStorage');

      // Categories: a root, a child (by keyboard only), a rename, a refused delete.
      await nav(page, 'Categories');
      await heading(page, 'Categories');
      const rootName = `E2E ${RUN}`;
      const topForm = page.getByRole('form', { name: 'New top-level category' });
      await topForm.getByLabel('Name').fill(rootName);
      await topForm.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { level: 2, name: rootName }).waitFor();
      const childForm = page.getByRole('form', { name: 'Add a child category' });
      await childForm.getByLabel('Name').focus();
      await page.keyboard.type(`Phones ${RUN}`);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 2, name: `${rootName} / Phones ${RUN}` }).waitFor();
      const rename = page.getByRole('form', { name: 'Rename category' });
      await rename.getByLabel('Name').fill(`Handsets ${RUN}`);
      await rename.getByRole('button', { name: 'Rename' }).click();
      const childLabel = `${rootName} / Handsets ${RUN}`;
      await page.getByRole('heading', { level: 2, name: childLabel }).waitFor();
      await page.getByRole('button', { name: rootName, exact: true }).click();
      await page.getByRole('button', { name: 'Delete category' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('alert').filter({ hasText: /not empty|children|products/i }).waitFor();
      await checkScreen(page, '02-categories', { docs: true });

      // A product: the 422 of a bad price shows next to the price field.
      await nav(page, 'Products');
      await heading(page, 'Products');
      await page.getByRole('link', { name: 'New product' }).click();
      await heading(page, 'New product');
      const form = page.getByRole('form', { name: 'New product' });
      const productName = `Phone ${RUN}`;
      await form.getByLabel('Name').fill(productName);
      await form.getByLabel('SKU').fill(`E2E-${RUN}`);
      await form.getByLabel('Price (KES)').fill('-5');
      await form.getByLabel('Stock quantity').fill('10');
      await form.getByLabel('Category').selectOption({ label: childLabel });
      await form.getByRole('button', { name: 'Create product' }).click();
      const price = form.getByLabel('Price (KES)');
      await poll(async () => (await price.getAttribute('aria-invalid')) === 'true', { message: 'the price error' });
      const describedBy = (await price.getAttribute('aria-describedby')) ?? '';
      const errorId = describedBy.split(' ').find((id) => id.endsWith('-error'));
      assert.ok(errorId, 'the price field names its error');
      assert.ok((await page.locator(`[id="${errorId}"]`).innerText()).length > 0);
      await checkScreen(page, '03-product-form-errors');
      await price.fill('1499');
      await form.getByRole('button', { name: 'Create product' }).click();
      await heading(page, productName);
      state.productUrl = page.url();
      state.productId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
      await page.getByText('KES 1,499.00').first().waitFor();
      assert.equal(await page.getByTestId('stock').innerText(), '10');

      // Stock by a delta.
      const stock = page.getByRole('form', { name: 'Adjust stock' });
      await stock.getByLabel('Change stock by').fill('5');
      await stock.getByRole('button', { name: 'Adjust stock' }).click();
      await poll(async () => (await page.getByTestId('stock').innerText()) === '15', { message: 'stock 15' });
      await stock.getByLabel('Change stock by').fill('-5');
      await stock.getByRole('button', { name: 'Adjust stock' }).click();
      await poll(async () => (await page.getByTestId('stock').innerText()) === '10', { message: 'stock 10' });

      // Stock buckets: a count the API refuses (over 32) is shown at its field; then 4, by
      // keyboard (3, the up arrow, Enter), saved with the stock total unchanged.
      const edit = page.getByRole('form', { name: 'Edit product' });
      const buckets = edit.getByLabel('Stock buckets');
      assert.equal(await page.getByTestId('stock-buckets').innerText(), '1', 'a new product has one bucket');
      assert.equal(await buckets.inputValue(), '1');
      const bucketsHelp = ((await buckets.getAttribute('aria-describedby')) ?? '').split(' ').find((id) => id.endsWith('-hint'));
      assert.ok(bucketsHelp, 'the stock buckets field names its help text');
      assert.match(await page.locator(`[id="${bucketsHelp}"]`).innerText(), /flash sale/);
      await buckets.fill('40');
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await poll(async () => (await buckets.getAttribute('aria-invalid')) === 'true', { message: 'the stock buckets error' });
      const bucketsError = ((await buckets.getAttribute('aria-describedby')) ?? '').split(' ').find((id) => id.endsWith('-error'));
      assert.ok(bucketsError, 'the stock buckets field names its error');
      assert.ok((await page.locator(`[id="${bucketsError}"]`).innerText()).length > 0);
      assert.equal(await page.getByTestId('stock-buckets').innerText(), '1', 'the refused count was not saved');
      await checkScreen(page, '04-product-buckets-error');
      await buckets.fill('3');
      await buckets.press('ArrowUp');
      assert.equal(await buckets.inputValue(), '4');
      await buckets.press('Enter');
      await edit.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await poll(async () => (await page.getByTestId('stock-buckets').innerText()) === '4', { message: 'four stock buckets' });
      assert.equal(await buckets.inputValue(), '4');
      assert.equal(await buckets.getAttribute('aria-invalid'), null);
      assert.equal(await page.getByTestId('stock').innerText(), '10', 'splitting the stock keeps its total');
      await checkScreen(page, '04-product', { docs: true });

      // Products list with a filter.
      await nav(page, 'Products');
      await page.getByLabel('Name contains').fill(`Phone ${RUN}`);
      await page.getByRole('button', { name: 'Show products' }).click();
      await page.getByRole('link', { name: productName }).waitFor();
      await checkScreen(page, '05-products', { docs: true });

      // The customer places two orders through the API.
      const a = await placeOrder(state.productId, 2);
      const b = await placeOrder(state.productId, 3);
      state.orders = [a, b];

      // Order A: CONFIRMED → PROCESSING → SHIPPED → DELIVERED, one legal step at a time.
      await page.goto(`${ORIGIN}/console/orders?customer_id=${customerId}`);
      await heading(page, 'Orders');
      await page.getByRole('link', { name: a.order_number }).click();
      await heading(page, `Order ${a.order_number}`);
      const status = page.getByTestId('order-status');
      for (const next of ['PROCESSING', 'SHIPPED', 'DELIVERED']) {
        await page.getByRole('button', { name: `Mark as ${next}` }).click();
        await poll(async () => (await status.innerText()) === next, { message: `order A ${next}` });
      }
      assert.equal(await page.getByRole('button', { name: /Mark as|Confirm order|Cancel order/ }).count(), 0);
      await page.getByText('KES 3,477.68').first().waitFor(); // 2 × 1499.00 + 16 % VAT

      // Every message was sent (the notifier runs behind the queue bridge): the
      // confirmation's SMS and email, then a text for each of shipped and delivered; and
      // every text reached the phone (the SMS stand-in's delivery report, about a second
      // after each send, recorded by the API).
      const messages = page.getByRole('region', { name: 'Messages of this order' }).locator('tbody tr');
      const sent = await poll(
        async () => {
          await page.reload();
          await messages.first().waitFor();
          const text = await messages.allInnerTexts();
          const texts = text.filter((row) => /\bSMS\b/.test(row));
          return (
            text.length === 4 &&
            text.every((row) => /\bSent\b/.test(row)) &&
            texts.every((row) => /\bSMS\s+Sent\s+\d+\s+—\s+Delivered\b/.test(row)) &&
            text
          );
        },
        { timeout: 60_000, message: 'every message sent, every text delivered' },
      );
      assert.match(sent[0], /^Order confirmed\s+SMS\s+Sent\s+1\s+—\s+Delivered\b/);
      assert.match(sent[1], /^Order confirmed\s+Email\s+Sent\b/);
      assert.match(sent[2], /^Shipped\s+SMS\s+Sent\s+1\s+—\s+Delivered\s+\d/, 'a text has the time it was sent');
      assert.match(sent[3], /^Delivered\s+SMS\s+Sent\s+1\s+—\s+Delivered\s+\d/);
      if (haveCustomers) {
        await page.getByText('+254712345678').waitFor();
      }
      if (haveAudit) {
        const history = page.getByRole('region', { name: 'History of this order' });
        await poll(async () => (await history.getByText('order.status_changed').count()) === 3, {
          message: 'three status changes in the order history',
        });
      }
      await checkScreen(page, '06-order-delivered', { docs: true });

      // Order B: cancelled; the dialog says which stock comes back.
      await page.goto(`${ORIGIN}/console/orders/${b.id}`);
      await heading(page, `Order ${b.order_number}`);
      await page.getByRole('button', { name: 'Cancel order' }).click();
      const dialog = page.getByRole('dialog', { name: `Cancel ${b.order_number}?` });
      await dialog.getByText(`3 × ${productName}`).waitFor();
      await checkScreen(page, '07-cancel-dialog');
      await dialog.getByRole('button', { name: 'Cancel the order' }).click();
      await poll(async () => (await page.getByTestId('order-status').innerText()) === 'CANCELLED', {
        message: 'order B cancelled',
      });
      await page.goto(state.productUrl);
      await heading(page, productName);
      assert.equal(await page.getByTestId('stock').innerText(), '8', '10 - 2 delivered; the 3 cancelled came back');
      if (haveAudit) {
        const history = page.getByRole('region', { name: 'History of this product' });
        await history.getByText('product.created').waitFor();
        await history.getByText('product.stock_changed').first().waitFor();
        await history.getByText('product.updated').first().waitFor();
        await history.locator('li').filter({ hasText: /stock_buckets: 1 → 4\b/ }).waitFor();
      } else {
        t.diagnostic('GET /audit is not in this stack yet: history checks skipped');
      }

      // The shop-wide history.
      await nav(page, 'History');
      await heading(page, 'History');
      if (haveAudit) {
        await page.getByText('category.created').first().waitFor();
        await page.getByText('order.cancelled').first().waitFor();
        // Each entry names what it is about as staff know it: the order by its number.
        await page.getByRole('link', { name: `order ${b.order_number}` }).first().waitFor();
      }
      await checkScreen(page, '08-history', { docs: true });

      // The orders CSV of this customer: both orders, as they now are.
      await page.goto(`${ORIGIN}/console/orders?customer_id=${customerId}`);
      await heading(page, 'Orders');
      await page.getByRole('link', { name: a.order_number }).waitFor();
      await checkScreen(page, '09-orders', { docs: true });
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      const file = join(OUT, 'orders.csv');
      await download.saveAs(file);
      const lines = readFileSync(file, 'utf8').trim().split(/\r\n/);
      assert.equal(
        lines[0],
        'order_number,id,status,customer_id,customer_name,customer_email,items,subtotal,tax_amount,total_amount,currency,created_at',
      );
      const rows = lines.slice(1).map((l) => l.split(','));
      const byNumber = Object.fromEntries(rows.map((r) => [r[0], r]));
      assert.equal(byNumber[a.order_number]?.[2], 'DELIVERED');
      assert.equal(byNumber[b.order_number]?.[2], 'CANCELLED');
      assert.equal(byNumber[a.order_number]?.[4], 'Wanjiku Customer', 'the customer by name');
      assert.equal(byNumber[a.order_number]?.[5], 'customer@example.com');
      assert.equal(byNumber[a.order_number]?.[9], '3477.68');
      await page.getByRole('status').filter({ hasText: /Exported \d+ orders/ }).waitFor();

      // Notifications (failed) and customers.
      await nav(page, 'Notifications');
      await heading(page, 'Failed notifications');
      await page.getByText(/No failed notifications|could not be sent or delivered/).first().waitFor();
      await checkScreen(page, '10-notifications');
      await nav(page, 'Customers');
      await heading(page, 'Customers');
      await page.getByLabel('E-mail').fill('customer@example.com');
      await page.getByRole('button', { name: 'Look up' }).click();
      if (haveCustomers) {
        await page.getByRole('link', { name: 'Wanjiku Customer' }).click();
        await heading(page, 'Wanjiku Customer');
        await page.getByTestId('phone').getByText('+254712345678').waitFor();
        await page.getByRole('link', { name: a.order_number }).waitFor();
        await checkScreen(page, '11-customer', { docs: true });
      } else {
        t.diagnostic('GET /customers is not in this stack yet: customer checks skipped');
      }

      // At 360 px the page does not scroll sideways (tables scroll in their own region).
      await page.setViewportSize({ width: 360, height: 780 });
      await page.goto(`${ORIGIN}/console/orders?customer_id=${customerId}`);
      await page.getByRole('link', { name: a.order_number }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling at 360 px (${overflow} px)`);
      await checkScreen(page, '12-orders-360px', { docs: true });

      assertPolicyKept(record);
    }));

  it('advances three orders in bulk and shows the one the API refused', async (t) =>
    withContext(browser, t, 'bulk', async ({ page, record }) => {
      const orders = [];
      for (let i = 0; i < 3; i++) orders.push(await placeOrder(state.productId, 1));
      await consoleSignIn(page, 'admin');
      await page.goto(`${ORIGIN}/console/orders?customer_id=${customerId}&status=CONFIRMED`);
      await heading(page, 'Orders');
      for (const o of orders) await page.getByRole('link', { name: o.order_number }).waitFor();
      // The customer cancels the second order while the admin's list still shows it.
      const cancelled = await api(customerToken, 'POST', `/orders/${orders[1].id}/cancel`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      for (const o of orders) await page.getByLabel(`Select ${o.order_number}`).check();
      await page.getByRole('button', { name: 'Advance selected' }).click();
      const results = page.getByRole('region', { name: 'Bulk results' });
      await poll(async () => (await results.locator('li').count()) === 3, { message: 'three results' });
      const text = await results.locator('li').allInnerTexts();
      assert.match(text.find((l) => l.startsWith(orders[0].order_number)) ?? '', /done — CONFIRMED → PROCESSING/);
      assert.match(text.find((l) => l.startsWith(orders[2].order_number)) ?? '', /done — CONFIRMED → PROCESSING/);
      assert.match(text.find((l) => l.startsWith(orders[1].order_number)) ?? '', /refused — .+/);
      for (const [o, expected] of [
        [orders[0], 'PROCESSING'],
        [orders[1], 'CANCELLED'],
        [orders[2], 'PROCESSING'],
      ]) {
        const now = await api(adminToken, 'GET', `/orders/${o.id}`);
        assert.equal(now.body.status, expected, o.order_number);
      }
      await checkScreen(page, '13-bulk-results', { docs: true });
      assertPolicyKept(record);
    }));

  it('sends an M-Pesa prompt from the order page and shows what the API refused', async (t) =>
    withContext(browser, t, 'prompt', async ({ page, record }) => {
      const order = await placeOrder(state.productId, 1, { confirm: false });
      assert.equal(order.status, 'PENDING');
      assert.equal(order.payment_status, 'unpaid');
      state.paidOrder = order;
      await consoleSignIn(page, 'admin');
      await page.goto(`${ORIGIN}/console/orders/${order.id}`);
      await heading(page, `Order ${order.order_number}`);
      const panel = page.getByRole('region', { name: 'Payment', exact: true });
      assert.equal(await panel.getByTestId('payment-status').innerText(), 'unpaid');
      assert.equal(await panel.getByTestId('payment-reference').innerText(), order.payment_reference);
      assert.equal(await panel.getByTestId('amount-paid').innerText(), 'KES 0.00');
      assert.equal(await panel.getByTestId('amount-due').innerText(), 'KES 1,739.00'); // 1738.84 rounded up
      await panel.getByText('No payments yet.').waitFor();
      const form = panel.getByRole('form', { name: 'Payment prompt' });
      const phone = form.getByLabel('Phone number (optional)');
      const send = form.getByRole('button', { name: 'Send payment prompt' });

      // Not a Kenyan mobile number: the 422 shows at the field.
      await phone.fill('12345');
      await send.click();
      await poll(async () => (await phone.getAttribute('aria-invalid')) === 'true', { message: 'the phone error' });
      await form.getByRole('alert').waitFor();

      // A prompt sent behind the console's back (the payer will cancel it): the console's
      // own is refused with a 409, said in words, and the page then shows the waiting one.
      const behind = await api(customerToken, 'POST', `/orders/${order.id}/pay`, { phone_number: '0712341032' });
      assert.equal(behind.status, 202, JSON.stringify(behind.body));
      await phone.fill('');
      await send.click();
      await form.getByRole('alert').filter({ hasText: /pending|waiting/i }).waitFor();
      const payments = panel.getByRole('region', { name: 'Payments of this order' });
      // The payer cancels it: the page, reading the order again while the prompt waits,
      // shows it failed with M-Pesa's code, and offers the prompt again.
      await poll(async () => /\b1032\b/.test(await payments.innerText()), { timeout: 60_000, message: 'the cancelled prompt' });
      await poll(async () => send.isEnabled(), { message: 'the prompt offered again' });
      assert.equal(await panel.getByTestId('payment-status').innerText(), 'unpaid');

      // The profile's number (+254712345678) pays a few seconds later.
      await send.click();
      await form.getByRole('status').filter({ hasText: 'Prompt sent for KES 1,739.00' }).waitFor();
      await poll(async () => (await panel.getByTestId('payment-status').innerText()) === 'paid', {
        timeout: 60_000,
        message: 'the order paid',
      });
      assert.equal(await page.getByTestId('order-status').innerText(), 'CONFIRMED', 'paying confirmed it');
      assert.equal(await panel.getByTestId('amount-paid').innerText(), 'KES 1,739.00');
      assert.equal(await panel.getByTestId('amount-due').innerText(), 'KES 0.00');
      const rows = await payments.locator('tbody tr').allInnerTexts();
      assert.equal(rows.length, 2, rows.join('\n'));
      assert.match(rows[0], /^Prompt\s+failed\s+KES 1,739\.00\s+—\s+\S+\s+1032: /);
      assert.match(rows[1], /^Prompt\s+succeeded\s+KES 1,739\.00\s+[0-9A-Z]{8,20}\s+\S+/);
      await form
        .getByRole('status')
        .filter({ hasText: /Prompt sent for KES 1,739\.00 to \+254712345678: paid, receipt [0-9A-Z]{8,20}\./ })
        .waitFor();
      assert.ok(await send.isDisabled(), 'nothing is due: no prompt offered');
      await panel.getByText('Nothing is due on this order.').waitFor();
      if (haveAudit) {
        const history = page.getByRole('region', { name: 'History of this order' });
        await history.getByText('payment.received').waitFor();
      }
      // The docs' picture is of the viewport: the panel at its top.
      await panel.evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await checkScreen(page, '16-order-payment', { docs: true });
      assertPolicyKept(record);
    }));

  it('filters the orders by a customer\'s e-mail, and by payment status alone', async (t) =>
    withContext(browser, t, 'payment-filter', async ({ page, record }) => {
      await consoleSignIn(page, 'admin');
      // Staff know a customer by their e-mail, in any case; each row names them.
      await page.goto(`${ORIGIN}/console/orders`);
      await heading(page, 'Orders');
      const byEmail = page.locator('form.filters');
      await byEmail.getByLabel('Customer e-mail').fill('Customer@Example.com');
      await byEmail.getByRole('button', { name: 'Show orders' }).click();
      await page.waitForURL((url) => url.searchParams.get('customer_email') === 'Customer@Example.com');
      // The unfiltered rows stay on the page until the new list renders: wait for it.
      const theirs = page.getByRole('region', { name: 'Orders', exact: true }).locator('tbody tr');
      const listed = await poll(
        async () => {
          const texts = await theirs.allInnerTexts();
          return texts.length > 0 && texts.every((row) => /Wanjiku Customer\s+customer@example\.com/.test(row)) && texts;
        },
        { message: 'only the customer\'s orders listed' },
      );
      assert.ok(listed.length > 0);

      await page.goto(`${ORIGIN}/console/orders?customer_id=${customerId}`);
      await heading(page, 'Orders');
      const filters = page.locator('form.filters');
      const status = filters.getByLabel('Status', { exact: true });
      const customer = filters.getByLabel('Customer e-mail');
      await status.selectOption('CONFIRMED');
      await filters.getByLabel('Payment status').selectOption('paid');
      assert.ok(await status.isDisabled(), 'status is not combined with the payment status');
      assert.ok(await customer.isDisabled(), 'nor the customer');
      assert.equal(await customer.inputValue(), '');
      await filters.getByRole('button', { name: 'Show orders' }).click();
      await page.waitForURL((url) => url.search === '?payment_status=paid');
      const rows = page.getByRole('region', { name: 'Orders', exact: true }).locator('tbody tr');
      // As above, the customer's rows stay until the paid ones render.
      await poll(
        async () => {
          const count = await rows.count();
          return count > 0 && (await rows.locator('.badge.pay-paid').count()) === count;
        },
        { message: 'every listed order paid' },
      );
      await page.getByRole('link', { name: state.paidOrder.order_number }).waitFor();
      await checkScreen(page, '17-orders-by-payment', { docs: true });
      assertPolicyKept(record);
    }));

  it('assigns a Paybill payment that named no order, and lists what needs attention', async (t) =>
    withContext(browser, t, 'payments', async ({ page, record }) => {
      const order = await placeOrder(state.productId, 1);
      const account = `NOSUCH${RUN}`.slice(0, 20);
      const receipt = await unmatchedPaybill(account, 2000);
      // Kept unmatched, for staff.
      const unmatched = await poll(
        async () => {
          const list = await api(adminToken, 'GET', '/payments?status=unmatched&limit=100');
          return list.body?.items?.find((p) => p.receipt === receipt);
        },
        { timeout: 60_000, message: 'the unmatched payment' },
      );
      assert.equal(unmatched.account_reference, account);
      assert.equal(unmatched.amount, '2000.00');
      await consoleSignIn(page, 'admin');
      await nav(page, 'Payments');
      await heading(page, 'Payments');
      const form = page.getByRole('form', { name: `Assign payment ${unmatched.receipt}` });
      await form.waitFor();
      const orderId = form.getByLabel('Assign to order id');
      const assign = form.getByRole('button', { name: 'Assign to order' });

      // An order number is not an id: said at the field, nothing sent.
      await orderId.fill(order.order_number);
      await assign.click();
      await form.getByText('That is an order number').waitFor();
      // An id that names no order: the API's 422, in words.
      await orderId.fill('01ARZ3NDEKTSV4RRFFQ69G5FAV');
      await assign.click();
      await form.getByRole('alert').filter({ hasText: 'No order has this id' }).waitFor();
      await checkScreen(page, '18-payments', { docs: true });

      await orderId.fill(order.id);
      await assign.click();
      const done = page.getByRole('status').filter({ hasText: `${unmatched.receipt} (KES 2,000.00) is now on` });
      await done.waitFor();
      assert.equal(await form.count(), 0, 'the payment left the list');

      // KES 2,000 on an order of KES 1,738.84: overpaid, so it needs attention.
      const attention = page.getByRole('region', { name: 'Payments that need attention' });
      const row = attention.locator('tr').filter({ has: page.getByRole('link', { name: order.order_number }) });
      await row.waitFor();
      assert.match(await row.innerText(), /Overpaid: the order holds more than its total/);
      await checkScreen(page, '19-payments-assigned', { docs: true });

      await done.getByRole('link', { name: `order ${order.id}` }).click();
      await heading(page, `Order ${order.order_number}`);
      const panel = page.getByRole('region', { name: 'Payment', exact: true });
      assert.equal(await panel.getByTestId('amount-paid').innerText(), 'KES 2,000.00');
      assert.equal(await panel.getByTestId('payment-status').innerText(), 'paid');
      const payments = panel.getByRole('region', { name: 'Payments of this order' });
      assert.match(await payments.innerText(), new RegExp(`Paybill\\s+succeeded\\s+KES 2,000\\.00\\s+${unmatched.receipt}`));
      if (haveAudit) {
        await page.getByRole('region', { name: 'History of this order' }).getByText('payment.assigned').waitFor();
      }
      await checkScreen(page, '20-order-assigned');
      assertPolicyKept(record);
    }));

  it('shows a customer who is not an admin only "admins only"', async (t) =>
    withContext(browser, t, 'customer', async ({ page, record }) => {
      await consoleSignIn(page, 'customer');
      await heading(page, 'Admins only');
      await page.getByText('customer@example.com').waitFor();
      await checkScreen(page, '14-admins-only');
      const beyondSignIn = record.apiCalls.filter(
        (call) => !/^GET \/api\/v1\/auth\/google\/(login|callback)$/.test(call),
      );
      assert.deepEqual([...new Set(beyondSignIn)], ['GET /api/v1/customer/me']);
      assertPolicyKept(record);
    }));

  it('refuses a return whose state this tab did not start, and answers a 401 with sign-in', async (t) =>
    withContext(browser, t, 'callback', async ({ page, record }) => {
      await page.goto(`${ORIGIN}/console/callback?code=forged&state=forged`);
      await page.getByRole('alert').getByText('Sign-in could not be verified').waitFor();
      assert.equal(new URL(page.url()).search, '', 'the code left the address bar');
      await checkScreen(page, '15-callback-refused');
      await page.evaluate(() => sessionStorage.setItem('console.token', 'not-a-token'));
      await page.goto(`${ORIGIN}/console/products`);
      await page.getByRole('button', { name: 'Sign in with Google' }).waitFor();
      await page.getByText('Your session has ended').waitFor();
      assertPolicyKept(record);
    }));

  it('shows texts the SMS provider refused, and why, on the Notifications screen and the order', async (t) =>
    withContext(browser, t, 'failed-notification', async ({ page, record }) => {
      // The stack's Africa's Talking stand-in refuses a number ending in 0000 as blacklisted
      // (406 UserInBlacklist): the notifier records each text to it as failed for good. The
      // notifier reads the number when it sends, so it is restored only once every message
      // of the order is final (the other steps text +254712345678).
      const blacklisted = await api(customerToken, 'PATCH', '/customer/me', { phone_number: '0712340000' });
      assert.equal(blacklisted.status, 200, JSON.stringify(blacklisted.body));
      let order;
      let final;
      let undelivered;
      let undeliveredMessages;
      try {
        order = await placeOrder(state.productId, 1);
        await consoleSignIn(page, 'admin');
        await page.goto(`${ORIGIN}/console/orders/${order.id}`);
        await heading(page, `Order ${order.order_number}`);
        const status = page.getByTestId('order-status');
        for (const next of ['PROCESSING', 'SHIPPED']) {
          await page.getByRole('button', { name: `Mark as ${next}` }).click();
          await poll(async () => (await status.innerText()) === next, { message: `the order ${next}` });
        }
        final = await poll(
          async () => {
            const now = await api(adminToken, 'GET', `/orders/${order.id}`);
            const messages = now.body?.messages ?? [];
            return messages.length === 3 && messages.every((m) => m.status !== 'pending') && messages;
          },
          { timeout: 60_000, message: 'every message of the order final' },
        );
        // A number ending in 9999: the stand-in accepts the text, then reports it Failed
        // (AbsentSubscriber) to the API's delivery-report route about a second later.
        const unreachable = await api(customerToken, 'PATCH', '/customer/me', { phone_number: '0712349999' });
        assert.equal(unreachable.status, 200, JSON.stringify(unreachable.body));
        undelivered = await placeOrder(state.productId, 1);
        undeliveredMessages = await poll(
          async () => {
            const now = await api(adminToken, 'GET', `/orders/${undelivered.id}`);
            const sms = (now.body?.messages ?? []).find((m) => m.channel === 'sms');
            return sms?.delivery && now.body.messages;
          },
          { timeout: 60_000, message: "the confirmation's delivery report recorded" },
        );
      } finally {
        const restored = await api(customerToken, 'PATCH', '/customer/me', { phone_number: '0712345678' });
        assert.equal(restored.status, 200, JSON.stringify(restored.body));
      }
      assert.deepEqual(
        final.map((m) => [m.event, m.channel, m.status, m.last_error]),
        [
          ['order.confirmed', 'sms', 'failed', 'user_in_blacklist'],
          ['order.confirmed', 'email', 'sent', null],
          ['order.shipped', 'sms', 'failed', 'user_in_blacklist'],
        ],
      );
      assert.deepEqual(
        undeliveredMessages.map((m) => [m.event, m.channel, m.status, m.delivery, m.last_error]),
        [
          ['order.confirmed', 'sms', 'sent', 'undelivered', 'absent_subscriber'],
          ['order.confirmed', 'email', 'sent', null, null],
        ],
      );
      await poll(
        async () => {
          const failed = await api(adminToken, 'GET', '/orders?notification_status=failed&limit=100');
          const listed = failed.body?.items ?? [];
          return [order, undelivered].every((o) => listed.some((l) => l.id === o.id));
        },
        { message: 'both orders listed with failed notifications' },
      );

      // The Notifications screen: which messages failed, and why, in words.
      await nav(page, 'Notifications');
      await heading(page, 'Failed notifications');
      const list = page.getByRole('region', { name: 'Orders with failed notifications' });
      const row = list.locator('tr').filter({ has: page.getByRole('link', { name: order.order_number }) });
      await row.waitFor();
      const failed = await row.getByRole('listitem').allInnerTexts();
      assert.deepEqual(failed, [
        'Order confirmed (SMS): The number is blacklisted: the customer opted out of texts',
        'Shipped (SMS): The number is blacklisted: the customer opted out of texts',
      ]);
      const notDelivered = list
        .locator('tr')
        .filter({ has: page.getByRole('link', { name: undelivered.order_number }) });
      assert.deepEqual(await notDelivered.getByRole('listitem').allInnerTexts(), [
        'Order confirmed (SMS), sent but not delivered: The phone was off or out of coverage',
      ]);
      await checkScreen(page, '21-notifications-failed');

      // The order's Messages: every message, the refused ones with their reason.
      await row.getByRole('link', { name: order.order_number }).click();
      await heading(page, `Order ${order.order_number}`);
      const rows = page.getByRole('region', { name: 'Messages of this order' }).locator('tbody tr');
      await rows.first().waitFor();
      const text = await rows.allInnerTexts();
      assert.equal(text.length, 3, text.join('\n'));
      assert.match(text[0], /^Order confirmed\s+SMS\s+Failed\s+1\s+The number is blacklisted: the customer opted out of texts\s+—\s+—/);
      assert.match(text[1], /^Order confirmed\s+Email\s+Sent\s+1\s+—/);
      assert.match(text[2], /^Shipped\s+SMS\s+Failed\s+1\s+The number is blacklisted: the customer opted out of texts\s+—\s+—/);
      await page.getByRole('heading', { level: 2, name: 'Messages', exact: true }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await checkScreen(page, '22-order-messages');
      assertPolicyKept(record);
    }));
});
