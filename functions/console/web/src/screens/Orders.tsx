// Orders: newest first, by status and by customer (their e-mail) or by payment status alone,
// paged, each with its customer's name and its payment status; rows can be selected and
// advanced or cancelled in bulk — one API call per order, with each row's result shown.

import { useState } from 'preact/hooks';
import { advance, cancelOrder, get, PAYMENT_STATUSES, STATUSES, type Order, type Page } from '../api';
import { Confirm } from '../components/Confirm';
import { CsvExport } from '../components/CsvExport';
import { SelectField, TextField } from '../components/Field';
import { Link } from '../components/Link';
import { Pager, usePaging } from '../components/Pager';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { kes, when } from '../format';
import { asApiError, useLoad } from '../load';
import { paymentStatusWords } from '../payments';
import { navigate, withQuery, type Location } from '../router';

export const ORDER_CSV_HEADER = [
  'order_number',
  'id',
  'status',
  'customer_id',
  'customer_name',
  'customer_email',
  'items',
  'subtotal',
  'tax_amount',
  'total_amount',
  'currency',
  'created_at',
];

export function orderCsvRow(o: Order): unknown[] {
  return [
    o.order_number,
    o.id,
    o.status,
    o.customer_id,
    o.customer?.name ?? '',
    o.customer?.email ?? '',
    o.items.map((l) => `${l.quantity} x ${l.product_name}`).join('; '),
    o.subtotal,
    o.tax_amount,
    o.total_amount,
    o.currency,
    o.created_at,
  ];
}

interface BulkResult {
  id: string;
  number: string;
  ok: boolean;
  text: string;
}

interface OrderFilters {
  status: string;
  /** From a customer's page (`?customer_id=`); the form asks for an e-mail instead. */
  customerId: string;
  customerEmail: string;
  paymentStatus: string;
}

/** The API query of `filters`: the payment status alone, or status and customer. */
function orderQuery(filters: OrderFilters): Record<string, string | undefined> {
  if (filters.paymentStatus) return { payment_status: filters.paymentStatus };
  return {
    status: filters.status || undefined,
    customer_email: filters.customerEmail || undefined,
    customer_id: filters.customerEmail ? undefined : filters.customerId || undefined,
  };
}

/**
 * Status and customer, or the payment status alone: the API refuses a payment status
 * combined with another filter (400), so choosing one clears and disables the others.
 */
function Filters({ initial }: { initial: OrderFilters }) {
  const [s, setS] = useState(initial.status);
  const [c, setC] = useState(initial.customerEmail);
  const [p, setP] = useState(initial.paymentStatus);
  const alone = p !== '';
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(
          withQuery(
            '/console/orders',
            orderQuery({ status: s, customerId: initial.customerId, customerEmail: c.trim(), paymentStatus: p }),
          ),
        );
      }}
    >
      <SelectField label="Status" name="status" value={alone ? '' : s} onChange={setS} disabled={alone}>
        <option value="">All statuses</option>
        {STATUSES.map((st) => (
          <option key={st} value={st}>
            {st}
          </option>
        ))}
      </SelectField>
      <TextField
        label="Customer e-mail"
        name="customer_email"
        type="email"
        value={alone ? '' : c}
        onInput={setC}
        disabled={alone}
        hint={initial.customerId && !c ? 'Showing one customer’s orders (from their page).' : undefined}
      />
      <SelectField
        label="Payment status"
        name="payment_status"
        value={p}
        onChange={(value) => {
          setP(value);
          if (value) {
            setS('');
            setC('');
          }
        }}
        hint="On its own: not combined with status or customer."
      >
        <option value="">Any payment status</option>
        {PAYMENT_STATUSES.map((ps) => (
          <option key={ps} value={ps}>
            {paymentStatusWords(ps)}
          </option>
        ))}
      </SelectField>
      <button type="submit">Show orders</button>
    </form>
  );
}

export function OrderRows({
  orders,
  selected,
  onToggle,
}: {
  orders: Order[];
  selected?: Set<string>;
  onToggle?: (id: string, on: boolean) => void;
}) {
  return (
    <tbody>
      {orders.map((o) => (
        <tr key={o.id}>
          {selected && onToggle && (
            <td>
              <input
                type="checkbox"
                id={`select-${o.id}`}
                checked={selected.has(o.id)}
                onChange={(e) => onToggle(o.id, (e.currentTarget as HTMLInputElement).checked)}
              />
              <label for={`select-${o.id}`} class="visually-hidden">
                Select {o.order_number}
              </label>
            </td>
          )}
          <td class="nowrap">
            <Link href={`/console/orders/${encodeURIComponent(o.id)}`}>{o.order_number}</Link>
          </td>
          <td>
            <span class={`badge status-${o.status.toLowerCase()}`}>{o.status}</span>
          </td>
          <td>
            <Link href={`/console/customers/${encodeURIComponent(o.customer_id)}`}>
              {o.customer?.name ?? o.customer_id}
            </Link>
            {o.customer?.email && <div class="muted">{o.customer.email}</div>}
          </td>
          <td class="num">{kes(o.total_amount)}</td>
          <td>
            <PaymentBadge status={o.payment_status} />
          </td>
          <td>{when(o.created_at)}</td>
        </tr>
      ))}
    </tbody>
  );
}

function BulkResults({ results }: { results: BulkResult[] }) {
  return (
    <section class="bulk-results" aria-label="Bulk results">
      <h2>Results</h2>
      <ul>
        {results.map((r) => (
          <li key={r.id} class={r.ok ? 'ok' : 'refused'}>
            <strong>{r.number}</strong>: {r.ok ? 'done' : 'refused'} — {r.text}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** An order's payment status as a badge (none on a stack older than the payments). */
export function PaymentBadge({ status }: { status: string | undefined }) {
  if (!status) return <>—</>;
  return <span class={`badge pay-${status}`}>{paymentStatusWords(status)}</span>;
}

/** The table head of OrderRows (without the selection column). */
export function OrderHead() {
  return (
    <>
      <th scope="col">Order</th>
      <th scope="col">Status</th>
      <th scope="col">Customer</th>
      <th scope="col">Total</th>
      <th scope="col">Payment</th>
      <th scope="col">Placed</th>
    </>
  );
}

function OrderList({ filters }: { filters: OrderFilters }) {
  const paging = usePaging();
  const query = orderQuery(filters);
  const page = useLoad(() => get<Page<Order>>('/orders', { ...query, limit: 20, cursor: paging.cursor }), [paging.cursor]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [results, setResults] = useState<BulkResult[] | null>(null);
  const [running, setRunning] = useState(false);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const orders = page.data?.items ?? [];
  const chosen = orders.filter((o) => selected.has(o.id));

  function toggle(id: string, on: boolean) {
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  async function bulk(kind: 'advance' | 'cancel') {
    setConfirmCancel(false);
    setRunning(true);
    const out: BulkResult[] = [];
    setResults(out);
    for (const o of chosen) {
      try {
        const updated = kind === 'advance' ? await advance(o) : await cancelOrder(o.id);
        out.push({ id: o.id, number: o.order_number, ok: true, text: `${o.status} → ${updated.status}` });
      } catch (e) {
        const err = asApiError(e);
        out.push({ id: o.id, number: o.order_number, ok: false, text: `${err.title}: ${err.detail}` });
      }
      setResults([...out]);
    }
    setRunning(false);
    setSelected(new Set());
    page.reload();
  }

  const allOnPage = orders.length > 0 && orders.every((o) => selected.has(o.id));
  return (
    <>
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && <Status>Loading orders…</Status>}
      {page.data && orders.length === 0 && <p>No orders match.</p>}
      {orders.length > 0 && (
        <>
          <div class="bulk-bar" role="group" aria-label="Bulk actions">
            <span>{chosen.length} selected</span>
            <button type="button" disabled={chosen.length === 0 || running} onClick={() => bulk('advance')}>
              Advance selected
            </button>
            <button type="button" class="danger" disabled={chosen.length === 0 || running} onClick={() => setConfirmCancel(true)}>
              Cancel selected
            </button>
          </div>
          <Table label="Orders">
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    id="select-all"
                    checked={allOnPage}
                    onChange={(e) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      setSelected(new Set(on ? orders.map((o) => o.id) : []));
                    }}
                  />
                  <label for="select-all" class="visually-hidden">
                    Select all orders on this page
                  </label>
                </th>
                <OrderHead />
              </tr>
            </thead>
            <OrderRows orders={orders} selected={selected} onToggle={toggle} />
          </Table>
          <Pager paging={paging} nextCursor={page.data?.next_cursor} label="Orders" />
        </>
      )}
      {results && <BulkResults results={results} />}
      <Confirm
        open={confirmCancel}
        title={`Cancel ${chosen.length} order${chosen.length === 1 ? '' : 's'}?`}
        confirmLabel="Cancel the orders"
        onConfirm={() => bulk('cancel')}
        onCancel={() => setConfirmCancel(false)}
      >
        <p>The stock of every line of each cancelled order is restored.</p>
        <ul>
          {chosen.map((o) => (
            <li key={o.id}>
              {o.order_number}: {o.items.map((l) => `${l.quantity} × ${l.product_name}`).join(', ')}
            </li>
          ))}
        </ul>
      </Confirm>
      <CsvExport<Order> what="orders" route="/orders" query={query} header={ORDER_CSV_HEADER} row={orderCsvRow} />
    </>
  );
}

export function Orders({ loc }: { loc: Location }) {
  const filters: OrderFilters = {
    status: loc.query.get('status') ?? '',
    customerId: loc.query.get('customer_id') ?? '',
    customerEmail: loc.query.get('customer_email') ?? '',
    paymentStatus: loc.query.get('payment_status') ?? '',
  };
  const key = `${filters.status}|${filters.customerId}|${filters.customerEmail}|${filters.paymentStatus}`;
  return (
    <Screen title="Orders">
      <Filters key={key} initial={filters} />
      <OrderList key={key} filters={filters} />
    </Screen>
  );
}
