// Change history (GET /audit): who, when, what changed from what to what — shop-wide, or
// for one product, order or category, each named as it was then (a name, an order number). Who is the account's e-mail, or "M-Pesa" for the
// payment changes M-Pesa's own calls made.

import { get, type AuditActor, type AuditEntry, type Page } from '../api';
import { value, when } from '../format';
import { useLoad } from '../load';
import { Link } from './Link';
import { Pager, usePaging } from './Pager';
import { Problem, Status } from './Problem';
import { Table } from './Table';

export function entityHref(type: string, id: string): string | null {
  switch (type) {
    case 'product':
      return `/console/products/${encodeURIComponent(id)}`;
    case 'order':
      return `/console/orders/${encodeURIComponent(id)}`;
    case 'category':
      return '/console/categories';
    default:
      return null;
  }
}

/** What an entry is about, as staff read it: its kind and its name or order number as it
 * was then (the id, for entries recorded before the API gave labels). */
export function entityName(entry: AuditEntry): string {
  return `${entry.entity_type} ${entry.entity_label ?? entry.entity_id}`;
}

/** Who made a change, as the History screen names them. */
export function actorName(actor: AuditActor | null | undefined): string {
  if (!actor) return '—';
  if (actor.email) return actor.email;
  const id: string = actor.id;
  return id === 'mpesa' ? 'M-Pesa' : id;
}

function Changes({ changes }: { changes: AuditEntry['changes'] }) {
  const fields = Object.entries(changes ?? {});
  if (fields.length === 0) return <>—</>;
  return (
    <ul class="changes">
      {fields.map(([field, change]) => (
        <li key={field}>
          <span class="field-name">{field}</span>: {'from' in change ? value(change.from) : 'none'} →{' '}
          {'to' in change ? value(change.to) : 'none'}
        </li>
      ))}
    </ul>
  );
}

export function History({
  entityType,
  entityId,
  showEntity = false,
  reloadKey = 0,
}: {
  entityType?: string;
  entityId?: string;
  showEntity?: boolean;
  reloadKey?: number;
}) {
  const paging = usePaging();
  const query = {
    entity_type: entityType,
    entity_id: entityId,
    cursor: paging.cursor,
    limit: 20,
  };
  const page = useLoad(() => get<Page<AuditEntry>>('/audit', query), [entityType, entityId, paging.cursor, reloadKey]);
  const label = entityType ? `History of this ${entityType}` : 'Change history';
  return (
    <div class="history">
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && !page.data && <Status>Loading history…</Status>}
      {page.data && page.data.items.length === 0 && <p>No changes recorded yet.</p>}
      {page.data && page.data.items.length > 0 && (
        <Table label={label}>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              {showEntity && <th scope="col">What</th>}
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((entry) => {
              const href = entityHref(entry.entity_type, entry.entity_id);
              return (
                <tr key={entry.id}>
                  <td>{when(entry.at)}</td>
                  <td>{actorName(entry.actor)}</td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  {showEntity && <td>{href ? <Link href={href}>{entityName(entry)}</Link> : entityName(entry)}</td>}
                  <td>
                    <Changes changes={entry.changes} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
      {page.data && (page.data.next_cursor || paging.page > 1) && (
        <Pager paging={paging} nextCursor={page.data.next_cursor} label={label} />
      )}
    </div>
  );
}
