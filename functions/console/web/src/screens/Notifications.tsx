// Orders whose SMS or e-mail failed (GET /orders?notification_status=failed), newest
// first, each linking to its customer so a wrong phone number can be seen.

import { get, type Channel, type Order, type Page } from '../api';
import { Link } from '../components/Link';
import { Pager, usePaging } from '../components/Pager';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { when } from '../format';
import { useLoad } from '../load';

function ChannelCell({ channel }: { channel: Channel | undefined }) {
  if (!channel) return <td>—</td>;
  return (
    <td>
      <span class={`badge note-${channel.status}`}>{channel.status}</span>
      {channel.attempts > 0 && ` · ${channel.attempts} attempt${channel.attempts === 1 ? '' : 's'}`}
      {channel.last_error && ` · ${channel.last_error}`}
    </td>
  );
}

export function Notifications() {
  const paging = usePaging();
  const page = useLoad(
    () => get<Page<Order>>('/orders', { notification_status: 'failed', limit: 20, cursor: paging.cursor }),
    [paging.cursor],
  );
  const orders = page.data?.items ?? [];
  return (
    <Screen title="Failed notifications">
      <p>Orders whose SMS or e-mail could not be sent. Open the customer to check their phone number.</p>
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && <Status>Loading…</Status>}
      {page.data && orders.length === 0 && <p>No failed notifications.</p>}
      {orders.length > 0 && (
        <>
          <Table label="Orders with failed notifications">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Placed</th>
                <th scope="col">Customer</th>
                <th scope="col">SMS</th>
                <th scope="col">E-mail</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id}>
                  <td class="nowrap">
                    <Link href={`/console/orders/${encodeURIComponent(o.id)}`}>{o.order_number}</Link>
                  </td>
                  <td>{when(o.created_at)}</td>
                  <td>
                    <Link href={`/console/customers/${encodeURIComponent(o.customer_id)}`}>{o.customer_id}</Link>
                  </td>
                  <ChannelCell channel={o.notifications?.sms} />
                  <ChannelCell channel={o.notifications?.email} />
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager paging={paging} nextCursor={page.data?.next_cursor} label="Failed notifications" />
        </>
      )}
    </Screen>
  );
}
