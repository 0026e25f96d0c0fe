// Customers: look one up by e-mail, or page through all, newest first; a customer's page
// shows their profile and their orders.

import { useState } from 'preact/hooks';
import { get, type Customer, type Order, type Page } from '../api';
import { TextField } from '../components/Field';
import { Link } from '../components/Link';
import { Pager, usePaging } from '../components/Pager';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { when } from '../format';
import { useLoad } from '../load';
import { navigate, withQuery, type Location } from '../router';
import { OrderHead, OrderRows } from './Orders';

function CustomerList({ email }: { email: string }) {
  const paging = usePaging();
  const page = useLoad(
    () => get<Page<Customer>>('/customers', { email: email || undefined, limit: 20, cursor: paging.cursor }),
    [paging.cursor],
  );
  const customers = page.data?.items ?? [];
  return (
    <>
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && <Status>Loading customers…</Status>}
      {page.data && customers.length === 0 && <p>{email ? `No customer has the e-mail ${email}.` : 'No customers yet.'}</p>}
      {customers.length > 0 && (
        <>
          <Table label="Customers">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Phone</th>
                <th scope="col">Orders</th>
                <th scope="col">Joined</th>
              </tr>
            </thead>
            <tbody>
              {customers.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/console/customers/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </td>
                  <td>{c.email}</td>
                  <td>{c.phone_number ?? '—'}</td>
                  <td class="num">{c.order_count ?? '—'}</td>
                  <td>{when(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager paging={paging} nextCursor={page.data?.next_cursor} label="Customers" />
        </>
      )}
    </>
  );
}

export function Customers({ loc }: { loc: Location }) {
  const email = loc.query.get('email') ?? '';
  const [typed, setTyped] = useState(email);
  return (
    <Screen title="Customers">
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withQuery('/console/customers', { email: typed.trim() }));
        }}
      >
        <TextField label="E-mail" name="email" type="email" autoComplete="off" value={typed} onInput={setTyped} />
        <button type="submit">Look up</button>
      </form>
      <CustomerList key={email} email={email} />
    </Screen>
  );
}

export function CustomerDetail({ id }: { id: string }) {
  const customer = useLoad(() => get<Customer>(`/customers/${encodeURIComponent(id)}`), [id]);
  const orders = useLoad(() => get<Page<Order>>('/orders', { customer_id: id, limit: 20 }), [id]);
  const c = customer.data;
  return (
    <Screen title={c ? c.name : 'Customer'}>
      <Problem error={customer.error} onRetry={customer.reload} />
      {customer.loading && !c && <Status>Loading the customer…</Status>}
      {c && (
        <section aria-labelledby="profile-heading" class="card">
          <h2 id="profile-heading">Profile</h2>
          <dl>
            <dt>E-mail</dt>
            <dd>{c.email}</dd>
            <dt>Phone</dt>
            <dd data-testid="phone">{c.phone_number ?? 'none'}</dd>
            <dt>Admin</dt>
            <dd>{c.is_admin ? 'yes' : 'no'}</dd>
            <dt>Orders</dt>
            <dd>{c.order_count ?? '—'}</dd>
            <dt>Joined</dt>
            <dd>{when(c.created_at)}</dd>
          </dl>
        </section>
      )}
      <section aria-labelledby="orders-heading" class="card wide">
        <h2 id="orders-heading">Orders</h2>
        <Problem error={orders.error} onRetry={orders.reload} />
        {orders.data && orders.data.items.length === 0 && <p>No orders yet.</p>}
        {orders.data && orders.data.items.length > 0 && (
          <Table label="Orders of this customer">
            <thead>
              <tr>
                <OrderHead />
              </tr>
            </thead>
            <OrderRows orders={orders.data.items} />
          </Table>
        )}
        {orders.data?.next_cursor && (
          <p>
            <Link href={withQuery('/console/orders', { customer_id: id })}>All orders of this customer</Link>
          </p>
        )}
      </section>
    </Screen>
  );
}
