// Orders with a message that failed or was not delivered (GET
// /orders?notification_status=failed), newest first: which message (its event and
// channel) and why, in words, each order linking to its customer so a wrong phone number
// can be seen.

import { get, type Order, type Page } from '../api';
import { Link } from '../components/Link';
import { Pager, usePaging } from '../components/Pager';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { when } from '../format';
import { useLoad } from '../load';
import { channelWords, eventWords, failedMessages, messageReasonWords } from '../messages';

function FailedCell({ order }: { order: Order }) {
  const failed = failedMessages(order);
  if (failed.length === 0) return <td>—</td>;
  return (
    <td>
      <ul class="failed-messages">
        {failed.map((m, i) => (
          <li key={i}>
            <strong>
              {eventWords(m.event)} ({channelWords(m.channel)})
            </strong>
            {m.status === 'failed' ? ': ' : ', sent but not delivered: '}
            {m.last_error ? messageReasonWords(m.last_error) : 'no reason given'}
          </li>
        ))}
      </ul>
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
      <p>
        Orders with a message that could not be sent or delivered, and why. Open the customer to check their phone
        number.
      </p>
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
                <th scope="col">What failed, and why</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id}>
                  <th scope="row" class="nowrap">
                    <Link href={`/console/orders/${encodeURIComponent(o.id)}`}>{o.order_number}</Link>
                  </th>
                  <td>{when(o.created_at)}</td>
                  <td>
                    <Link href={`/console/customers/${encodeURIComponent(o.customer_id)}`}>{o.customer_id}</Link>
                  </td>
                  <FailedCell order={o} />
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
