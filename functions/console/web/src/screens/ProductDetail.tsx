// A product: the edit form (each 422 field error next to its field; the stock buckets only
// once the product exists), a stock adjustment by a delta, deactivate/activate and delete
// behind a confirmation, and its history. The same form creates a product at
// /console/products/new.

import { useRef, useState } from 'preact/hooks';
import { del, get, patch, post, type Product } from '../api';
import { useCategoryOptions } from '../categories';
import { Confirm } from '../components/Confirm';
import { fieldError, SelectField, TextArea, TextField } from '../components/Field';
import { History } from '../components/History';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { kes, when } from '../format';
import { useAction, useLoad } from '../load';
import { navigate } from '../router';

interface Draft {
  name: string;
  description: string;
  sku: string;
  price: string;
  stock_quantity: string;
  stock_buckets: string;
  category_id: string;
}

/** The most records a product's stock may be split over (the API refuses more). */
const MAX_STOCK_BUCKETS = 32;

function draftOf(p: Product | undefined): Draft {
  return {
    name: p?.name ?? '',
    description: p?.description ?? '',
    sku: p?.sku ?? '',
    price: p?.price ?? '',
    stock_quantity: p ? String(p.stock_quantity) : '0',
    stock_buckets: p ? String(p.stock_buckets) : '1',
    category_id: p?.category_id ?? '',
  };
}

/** A whole number as a number; anything else as typed, for the API to name in its 422. */
function integer(text: string): number | string {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

function createBody(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: d.name,
    price: d.price.trim(),
    stock_quantity: integer(d.stock_quantity),
    category_id: d.category_id,
  };
  if (d.description.trim()) body.description = d.description;
  if (d.sku.trim()) body.sku = d.sku.trim();
  return body;
}

function changes(d: Draft, p: Product): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (d.name !== p.name) body.name = d.name;
  if (d.description !== (p.description ?? '')) body.description = d.description.trim() ? d.description : null;
  if (d.sku.trim() !== (p.sku ?? '')) body.sku = d.sku.trim() ? d.sku.trim() : null;
  if (d.price.trim() !== p.price) body.price = d.price.trim();
  if (d.stock_buckets.trim() !== String(p.stock_buckets)) body.stock_buckets = integer(d.stock_buckets);
  if (d.category_id !== p.category_id) body.category_id = d.category_id;
  return body;
}

function ProductForm({ product, onSaved }: { product?: Product; onSaved?: () => void }) {
  const [d, setD] = useState(() => draftOf(product));
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const categories = useCategoryOptions();
  const set = (key: keyof Draft) => (value: string) => setD((old) => ({ ...old, [key]: value }));
  const errors = action.error?.status === 422 ? action.error.errors : undefined;
  const err = (field: string) => fieldError(errors, field);

  async function save(e?: Event) {
    e?.preventDefault();
    setSaved(null);
    if (!product) {
      const created = await action.run(() => post<Product>('/products', createBody(d)));
      if (created) navigate(`/console/products/${encodeURIComponent(created.id)}`);
      return;
    }
    const body = changes(d, product);
    if (Object.keys(body).length === 0) {
      setSaved('Nothing to save: no field was changed.');
      return;
    }
    const updated = await action.run(() => patch<Product>(`/products/${encodeURIComponent(product.id)}`, body));
    if (updated) {
      setD(draftOf(updated));
      setSaved('Saved.');
      onSaved?.();
    }
  }

  return (
    <form class="form" onSubmit={save} noValidate aria-label={product ? 'Edit product' : 'New product'}>
      <TextField label="Name" name="name" value={d.name} onInput={set('name')} error={err('name')} required />
      <TextArea label="Description" name="description" value={d.description} onInput={set('description')} error={err('description')} />
      <TextField label="SKU" name="sku" value={d.sku} onInput={set('sku')} error={err('sku')} hint="Optional, unique." />
      <TextField
        label="Price (KES)"
        name="price"
        inputMode="decimal"
        value={d.price}
        onInput={set('price')}
        error={err('price')}
        hint="For example 1499.00"
        required
      />
      {!product && (
        <TextField
          label="Stock quantity"
          name="stock_quantity"
          inputMode="numeric"
          value={d.stock_quantity}
          onInput={set('stock_quantity')}
          error={err('stock_quantity')}
          required
        />
      )}
      {product && (
        <TextField
          label="Stock buckets"
          name="stock_buckets"
          type="number"
          inputMode="numeric"
          min="1"
          max={String(MAX_STOCK_BUCKETS)}
          step="1"
          value={d.stock_buckets}
          onInput={set('stock_buckets')}
          error={err('stock_buckets')}
          hint={`Split the stock over this many records so that many buyers at once don't queue on one. 1 is right for most products; raise it (e.g. 16) before a flash sale. From 1 to ${MAX_STOCK_BUCKETS}; the stock total stays the same.`}
          required
        />
      )}
      <SelectField label="Category" name="category_id" value={d.category_id} onChange={set('category_id')} error={err('category_id')}>
        <option value="">Choose a category</option>
        {categories.options.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </SelectField>
      <Problem error={categories.error} onRetry={categories.reload} />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          {product ? 'Save changes' : 'Create product'}
        </button>
      </div>
      <Problem error={action.error} onRetry={save} />
      {saved && <Status>{saved}</Status>}
    </form>
  );
}

function StockAdjust({ product, onChanged }: { product: Product; onChanged: () => void }) {
  const [delta, setDelta] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  async function apply(e?: Event) {
    e?.preventDefault();
    setDone(null);
    const updated = await action.run(() =>
      patch<Product>(`/products/${encodeURIComponent(product.id)}`, { stock_delta: integer(delta) }),
    );
    if (updated) {
      setDone(`Stock is now ${updated.stock_quantity}.`);
      setDelta('');
      onChanged();
    }
  }
  return (
    <form class="form inline" onSubmit={apply} noValidate aria-label="Adjust stock">
      <TextField
        label="Change stock by"
        name="stock_delta"
        inputMode="numeric"
        value={delta}
        onInput={setDelta}
        hint="A whole number: 5 adds five, -2 takes two away."
        error={fieldError(action.error?.status === 422 ? action.error.errors : undefined, 'stock_delta')}
      />
      <button type="submit" disabled={action.busy || delta.trim() === ''}>
        Adjust stock
      </button>
      <Problem error={action.error} onRetry={apply} />
      {done && <Status>{done}</Status>}
    </form>
  );
}

function Lifecycle({ product, onChanged }: { product: Product; onChanged: () => void }) {
  const [asking, setAsking] = useState<'deactivate' | 'delete' | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const last = useRef<() => void>(() => undefined);
  const id = encodeURIComponent(product.id);
  async function confirm() {
    last.current = confirm;
    if (asking === 'deactivate') {
      const updated = await action.run(() => patch<Product>(`/products/${id}`, { is_active: false }));
      setAsking(null);
      if (updated) onChanged();
      return;
    }
    const ok = await action.run(async () => {
      await del(`/products/${id}`);
      return true;
    });
    setAsking(null);
    if (!ok) return;
    try {
      await get<Product>(`/products/${id}`);
      setDone('The product appears in orders, so it was deactivated instead of removed.');
      onChanged();
    } catch {
      navigate('/console/products');
    }
  }
  async function activate() {
    last.current = activate;
    const updated = await action.run(() => patch<Product>(`/products/${id}`, { is_active: true }));
    if (updated) onChanged();
  }
  return (
    <div class="actions">
      {product.is_active ? (
        <button type="button" onClick={() => setAsking('deactivate')}>
          Deactivate
        </button>
      ) : (
        <button type="button" onClick={activate} disabled={action.busy}>
          Activate
        </button>
      )}
      <button type="button" class="danger" onClick={() => setAsking('delete')}>
        Delete
      </button>
      <Problem error={action.error} onRetry={() => last.current()} />
      {done && <Status>{done}</Status>}
      <Confirm
        open={asking !== null}
        title={asking === 'delete' ? `Delete ${product.name}?` : `Deactivate ${product.name}?`}
        confirmLabel={asking === 'delete' ? 'Delete' : 'Deactivate'}
        busy={action.busy}
        onConfirm={confirm}
        onCancel={() => setAsking(null)}
      >
        <p>
          {asking === 'delete'
            ? 'A product that appears in orders is deactivated instead, and kept.'
            : 'Customers no longer see it; orders that have it keep it.'}
        </p>
      </Confirm>
    </div>
  );
}

export function NewProduct() {
  return (
    <Screen title="New product">
      <ProductForm />
    </Screen>
  );
}

export function ProductDetail({ id }: { id: string }) {
  const [round, setRound] = useState(0);
  const loaded = useLoad(() => get<Product>(`/products/${encodeURIComponent(id)}`), [id, round]);
  const p = loaded.data;
  const changed = () => setRound((r) => r + 1);
  return (
    <Screen title={p ? p.name : 'Product'}>
      <Problem error={loaded.error} onRetry={loaded.reload} />
      {loaded.loading && !p && <Status>Loading the product…</Status>}
      {p && (
        <div class="detail-grid">
          <section aria-labelledby="facts-heading" class="card">
            <h2 id="facts-heading">Now</h2>
            <dl>
              <dt>Price</dt>
              <dd>{kes(p.price)}</dd>
              <dt>Stock</dt>
              <dd data-testid="stock">{p.stock_quantity}</dd>
              <dt>Stock buckets</dt>
              <dd data-testid="stock-buckets">{p.stock_buckets}</dd>
              <dt>Active</dt>
              <dd>{p.is_active ? 'yes' : 'no'}</dd>
              <dt>Created</dt>
              <dd>{when(p.created_at)}</dd>
              <dt>Last change</dt>
              <dd>{when(p.updated_at)}</dd>
            </dl>
            <Lifecycle product={p} onChanged={changed} />
          </section>
          <section aria-labelledby="stock-heading" class="card">
            <h2 id="stock-heading">Stock</h2>
            <StockAdjust product={p} onChanged={changed} />
          </section>
          <section aria-labelledby="edit-heading" class="card wide">
            <h2 id="edit-heading">Edit</h2>
            <ProductForm key={p.id} product={p} onSaved={changed} />
          </section>
          <section aria-labelledby="history-heading" class="card wide">
            <h2 id="history-heading">History</h2>
            <History entityType="product" entityId={p.id} reloadKey={round} />
          </section>
        </div>
      )}
    </Screen>
  );
}
