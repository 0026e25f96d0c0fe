// M-Pesa payments staff act on: Paybill payments whose account number named no order
// (GET /payments?status=unmatched), each put on its order by hand (POST
// /payments/{id}/assign), and the payments that need attention
// (GET /payments?status=attention), each with its reason in words and its order.

import { useState } from 'preact/hooks';
import { ApiError, assignPayment, get, type AttentionPayment, type Page, type UnmatchedPayment } from '../api';
import { fieldError, TextField } from '../components/Field';
import { Link } from '../components/Link';
import { Pager, usePaging } from '../components/Pager';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { kes, when } from '../format';
import { asApiError, useLoad } from '../load';
import { looksLikeOrderNumber, methodWords, reasonWords, resultWords, reversalWords } from '../payments';

const orderHref = (id: string) => `/console/orders/${encodeURIComponent(id)}`;

/** The assign route's refusals, said for staff (the field's own error stays at the field). */
function inWords(err: ApiError): ApiError {
  const words: Record<number, [string, string]> = {
    400: ['That is not an order id', "Copy the id from the order's page (under Summary)."],
    404: ['This payment is no longer known', 'Reload the page: it may have been dealt with elsewhere.'],
    409: ['This payment is already on an order', 'Someone assigned it meanwhile: reload the page to see the list as it is.'],
    422: ['No order has this id', "Check the id on the order's page (under Summary)."],
  };
  const said = words[err.status];
  return said ? new ApiError(err.status, said[0], `${said[1]} (${err.detail})`, [], err.body) : err;
}

interface Assigned {
  payment: UnmatchedPayment;
  orderId: string;
}

function AssignForm({ payment, onAssigned }: { payment: UnmatchedPayment; onAssigned: (a: Assigned) => void }) {
  const [orderId, setOrderId] = useState('');
  const [busy, setBusy] = useState(false);
  const [hint, setHint] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const name = payment.receipt ?? payment.id;
  async function assign() {
    setError(undefined);
    const text = orderId.trim();
    if (!text) {
      setHint('Enter the id of the order this money is for.');
      return;
    }
    if (looksLikeOrderNumber(text)) {
      setHint('That is an order number: open the order and copy its id (under Summary).');
      return;
    }
    setHint(undefined);
    setBusy(true);
    try {
      const done = await assignPayment(payment.id, text);
      onAssigned({ payment, orderId: done.order_id });
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form
      class="form inline assign"
      aria-label={`Assign payment ${name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void assign();
      }}
    >
      <TextField
        label="Assign to order id"
        name="order_id"
        value={orderId}
        onInput={setOrderId}
        error={hint ?? fieldError(error?.errors, 'order_id')}
      />
      <button type="submit" disabled={busy}>
        Assign to order
      </button>
      <div class="prompt-problem">
        <Problem error={error && inWords(error)} onRetry={assign} />
      </div>
    </form>
  );
}

function Unmatched({ onAssigned }: { onAssigned: () => void }) {
  const paging = usePaging();
  const page = useLoad(
    () => get<Page<UnmatchedPayment>>('/payments', { status: 'unmatched', limit: 20, cursor: paging.cursor }),
    [paging.cursor],
  );
  const [assigned, setAssigned] = useState<Assigned[]>([]);
  const gone = new Set(assigned.map((a) => a.payment.id));
  const items = (page.data?.items ?? []).filter((p) => !gone.has(p.id));
  return (
    <section aria-labelledby="unmatched-heading" class="card">
      <h2 id="unmatched-heading">Unmatched payments</h2>
      <p>
        Paybill payments whose account number named no order. Find the order the payer meant (by the amount, the
        payer, the account number they typed) and assign the payment to it: it then counts on that order.
      </p>
      {assigned.length > 0 && (
        <div role="status" class="assigned">
          <ul>
            {assigned.map((a) => (
              <li key={a.payment.id}>
                {a.payment.receipt ?? a.payment.id} ({kes(a.payment.amount)}) is now on{' '}
                <Link href={orderHref(a.orderId)}>order {a.orderId}</Link>
              </li>
            ))}
          </ul>
        </div>
      )}
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && <Status>Loading unmatched payments…</Status>}
      {page.data && items.length === 0 && <p>No unmatched payments.</p>}
      {items.length > 0 && (
        <Table label="Unmatched payments">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Amount</th>
              <th scope="col">Receipt</th>
              <th scope="col">Account number typed</th>
              <th scope="col">Payer</th>
              <th scope="col">Method</th>
            </tr>
          </thead>
          {items.map((p) => (
            <tbody key={p.id} class="unmatched">
              <tr>
                <td>{when(p.paid_at)}</td>
                <td class="num">{kes(p.amount)}</td>
                <td>{p.receipt ?? '—'}</td>
                <td>{p.account_reference || '—'}</td>
                <td>
                  {p.payer_name ?? '—'}
                  {p.phone_number && <span class="nowrap"> · {p.phone_number}</span>}
                </td>
                <td>{methodWords(p.method)}</td>
              </tr>
              <tr>
                <td colSpan={6}>
                  <AssignForm
                    payment={p}
                    onAssigned={(a) => {
                      setAssigned((old) => [...old, a]);
                      onAssigned();
                    }}
                  />
                </td>
              </tr>
            </tbody>
          ))}
        </Table>
      )}
      {page.data && (page.data.next_cursor || paging.page > 1) && (
        <Pager paging={paging} nextCursor={page.data.next_cursor} label="Unmatched payments" />
      )}
    </section>
  );
}

/** One page, always (the API takes no limit or cursor for this list). */
function Attention({ reloadKey }: { reloadKey: number }) {
  const page = useLoad(() => get<Page<AttentionPayment>>('/payments', { status: 'attention' }), [reloadKey]);
  const items = page.data?.items ?? [];
  return (
    <section aria-labelledby="attention-heading" class="card">
      <h2 id="attention-heading">Needs attention</h2>
      <p>Payments M-Pesa and the shop disagree on, or money that must go back: each says what to do.</p>
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && !page.data && <Status>Loading payments that need attention…</Status>}
      {page.data && items.length === 0 && <p>Nothing needs attention.</p>}
      {items.length > 0 && (
        <Table label="Payments that need attention">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Why</th>
              <th scope="col">Amount</th>
              <th scope="col">Method</th>
              <th scope="col">Status</th>
              <th scope="col">Receipt</th>
              <th scope="col">Checkout request id</th>
              <th scope="col">Result</th>
              <th scope="col">Reversal</th>
              <th scope="col">Payer</th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td class="nowrap">
                  <Link href={orderHref(p.order_id)}>{p.order_number}</Link>
                </td>
                <td class="reason">{reasonWords(p.reason)}</td>
                <td class="num">{kes(p.amount)}</td>
                <td>{methodWords(p.method)}</td>
                <td>{p.status}</td>
                <td>{p.receipt ?? '—'}</td>
                <td>{p.checkout_request_id ?? '—'}</td>
                <td>
                  {resultWords(p)}
                </td>
                <td>{reversalWords(p.reversal)}</td>
                <td>
                  {p.payer_name ?? '—'}
                  {p.phone_number && <span class="nowrap"> · {p.phone_number}</span>}
                </td>
                <td>{when(p.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}

export function Payments() {
  // An assignment can make its order overpaid: the attention list is read again.
  const [round, setRound] = useState(0);
  return (
    <Screen title="Payments">
      <Unmatched onAssigned={() => setRound((r) => r + 1)} />
      <Attention reloadKey={round} />
    </Screen>
  );
}
