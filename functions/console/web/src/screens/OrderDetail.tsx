// One order: customer, address, lines, totals, timestamps, its M-Pesa payment (read again
// while a prompt waits), every message about it (sent, failed and why), the order's
// history; buttons only for the legal next steps; cancelling says which stock comes back.

import { useEffect, useRef, useState } from 'preact/hooks';
import { advance, cancellable, cancelOrder, get, nextStatus, type Customer, type Order } from '../api';
import { Confirm } from '../components/Confirm';
import { History } from '../components/History';
import { Link } from '../components/Link';
import { OrderPayment } from '../components/OrderPayment';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { kes, when } from '../format';
import { useAction, useLoad } from '../load';
import { channelWords, deliveryWords, eventWords, messagesOf, messageStatusWords, whyWords } from '../messages';

function CustomerCard({ id }: { id: string }) {
  const customer = useLoad(() => get<Customer>(`/customers/${encodeURIComponent(id)}`), [id]);
  return (
    <section aria-labelledby="customer-heading" class="card">
      <h2 id="customer-heading">Customer</h2>
      <Problem error={customer.error} onRetry={customer.reload} />
      {customer.data && (
        <dl>
          <dt>Name</dt>
          <dd>
            <Link href={`/console/customers/${encodeURIComponent(id)}`}>{customer.data.name}</Link>
          </dd>
          <dt>Email</dt>
          <dd>{customer.data.email}</dd>
          <dt>Phone</dt>
          <dd>{customer.data.phone_number ?? 'none'}</dd>
        </dl>
      )}
    </section>
  );
}

function Lines({ order }: { order: Order }) {
  return (
    <section aria-labelledby="lines-heading" class="card wide">
      <h2 id="lines-heading">Lines</h2>
      <Table label="Order lines">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">SKU</th>
            <th scope="col">Unit price</th>
            <th scope="col">Quantity</th>
            <th scope="col">Line total</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((l) => (
            <tr key={l.product_id}>
              <td>
                <Link href={`/console/products/${encodeURIComponent(l.product_id)}`}>{l.product_name}</Link>
              </td>
              <td>{l.sku ?? '—'}</td>
              <td class="num">{kes(l.unit_price)}</td>
              <td class="num">{l.quantity}</td>
              <td class="num">{kes(l.line_total)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={4}>
              Subtotal
            </th>
            <td class="num">{kes(order.subtotal)}</td>
          </tr>
          <tr>
            <th scope="row" colSpan={4}>
              VAT
            </th>
            <td class="num">{kes(order.tax_amount)}</td>
          </tr>
          <tr>
            <th scope="row" colSpan={4}>
              Total
            </th>
            <td class="num">
              <strong>{kes(order.total_amount)}</strong>
            </td>
          </tr>
        </tfoot>
      </Table>
    </section>
  );
}

function Messages({ order }: { order: Order }) {
  const messages = messagesOf(order);
  return (
    <section aria-labelledby="messages-heading" class="card wide">
      <h2 id="messages-heading">Messages</h2>
      {messages.length === 0 ? (
        <p>No messages yet.</p>
      ) : (
        <Table label="Messages of this order">
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Channel</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Reason</th>
              <th scope="col">Delivery</th>
              <th scope="col">Sent</th>
            </tr>
          </thead>
          <tbody>
            {messages.map((m, i) => (
              <tr key={i}>
                <th scope="row">{eventWords(m.event)}</th>
                <td>{channelWords(m.channel)}</td>
                <td>
                  <span class={`badge note-${m.status}`}>{messageStatusWords(m.status)}</span>
                </td>
                <td class="num">{m.attempts}</td>
                <td>{whyWords(m)}</td>
                <td>{deliveryWords(m.delivery)}</td>
                <td class="nowrap">{when(m.sent_at)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}

function Actions({ order, onChanged }: { order: Order; onChanged: (o: Order) => void }) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const last = useRef<() => void>(() => undefined);
  const next = nextStatus(order.status);
  async function step() {
    last.current = step;
    const updated = await action.run(() => advance(order));
    if (updated) onChanged(updated);
  }
  async function cancel() {
    last.current = cancel;
    const updated = await action.run(() => cancelOrder(order.id));
    setConfirming(false);
    if (updated) onChanged(updated);
  }
  if (!next && !cancellable(order.status)) return null;
  return (
    <section aria-labelledby="actions-heading" class="card wide">
      <h2 id="actions-heading">Actions</h2>
      <div class="actions">
        {next && (
          <button type="button" class="primary" disabled={action.busy} onClick={step}>
            {next === 'CONFIRMED' ? 'Confirm order' : `Mark as ${next}`}
          </button>
        )}
        {cancellable(order.status) && (
          <button type="button" class="danger" disabled={action.busy} onClick={() => setConfirming(true)}>
            Cancel order
          </button>
        )}
      </div>
      <Problem error={action.error} onRetry={() => last.current()} />
      <Confirm
        open={confirming}
        title={`Cancel ${order.order_number}?`}
        confirmLabel="Cancel the order"
        busy={action.busy}
        onConfirm={cancel}
        onCancel={() => setConfirming(false)}
      >
        <p>This stock is restored:</p>
        <ul>
          {order.items.map((l) => (
            <li key={l.product_id}>
              {l.quantity} × {l.product_name}
            </li>
          ))}
        </ul>
      </Confirm>
    </section>
  );
}

/** A prompt waiting on the payer's phone: the payment is decided within seconds. */
function awaitingPayer(order: Order | undefined): boolean {
  return !!order && (order.payments ?? []).some((p) => p.status === 'pending');
}

const REFRESH_MS = 3000;
const REFRESH_MAX = 200; // 10 minutes: M-Pesa's last word on a prompt.

/**
 * While a prompt waits, the order is read again every few seconds (up to the 10 minutes
 * after which a prompt fails); once it settles, `settled` runs (the history changed).
 */
function useRefreshWhilePending(order: Order | undefined, reload: () => void, settled: () => void) {
  const waiting = awaitingPayer(order);
  const was = useRef(false);
  const count = useRef(0);
  useEffect(() => {
    if (was.current && !waiting) settled();
    was.current = waiting;
    if (!waiting) {
      count.current = 0;
      return undefined;
    }
    if (count.current >= REFRESH_MAX) return undefined;
    const timer = setTimeout(() => {
      count.current += 1;
      reload();
    }, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [order, waiting]);
}

export function OrderDetail({ id }: { id: string }) {
  const [round, setRound] = useState(0);
  const loaded = useLoad(() => get<Order>(`/orders/${encodeURIComponent(id)}`), [id, round]);
  const order = loaded.data;
  const changed = () => setRound((r) => r + 1);
  useRefreshWhilePending(order, loaded.reload, changed);
  return (
    <Screen title={order ? `Order ${order.order_number}` : 'Order'}>
      <Problem error={loaded.error} onRetry={loaded.reload} />
      {loaded.loading && !order && <Status>Loading the order…</Status>}
      {order && (
        <div class="detail-grid">
          <section aria-labelledby="summary-heading" class="card">
            <h2 id="summary-heading">Summary</h2>
            <dl>
              <dt>Status</dt>
              <dd>
                <span class={`badge status-${order.status.toLowerCase()}`} data-testid="order-status">
                  {order.status}
                </span>
              </dd>
              <dt>Order id</dt>
              <dd>
                <code>{order.id}</code>
              </dd>
              <dt>Placed</dt>
              <dd>{when(order.created_at)}</dd>
              <dt>Confirmed</dt>
              <dd>{when(order.confirmed_at)}</dd>
              <dt>Cancelled</dt>
              <dd>{when(order.cancelled_at)}</dd>
              <dt>Last change</dt>
              <dd>{when(order.updated_at)}</dd>
              <dt>Delivery address</dt>
              <dd class="pre">{order.delivery_address}</dd>
              {order.notes && (
                <>
                  <dt>Notes</dt>
                  <dd class="pre">{order.notes}</dd>
                </>
              )}
            </dl>
          </section>
          <CustomerCard id={order.customer_id} />
          <Actions order={order} onChanged={changed} />
          {order.payment_status !== undefined && <OrderPayment order={order} onChanged={changed} />}
          <Lines order={order} />
          <Messages order={order} />
          <section aria-labelledby="history-heading" class="card wide">
            <h2 id="history-heading">History</h2>
            <History entityType="order" entityId={order.id} reloadKey={round} />
          </section>
        </div>
      )}
    </Screen>
  );
}
