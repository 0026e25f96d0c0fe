// Products: search, category, price range, in-stock and inactive filters, cursor paging,
// CSV export of the filtered list.

import { useState } from 'preact/hooks';
import { get, type Page, type Product } from '../api';
import { useCategoryOptions } from '../categories';
import { CsvExport } from '../components/CsvExport';
import { Checkbox, SelectField, TextField } from '../components/Field';
import { Link } from '../components/Link';
import { Pager, usePaging } from '../components/Pager';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { Table } from '../components/Table';
import { kes } from '../format';
import { useLoad } from '../load';
import { navigate, withQuery, type Location } from '../router';

const KEYS = ['q', 'category_id', 'min_price', 'max_price', 'in_stock', 'include_inactive'] as const;
type Filters = Record<(typeof KEYS)[number], string>;

const PRODUCT_CSV_HEADER = ['id', 'name', 'sku', 'price', 'stock_quantity', 'category_id', 'is_active', 'created_at', 'updated_at'];

function productCsvRow(p: Product): unknown[] {
  return [p.id, p.name, p.sku, p.price, p.stock_quantity, p.category_id, p.is_active, p.created_at, p.updated_at];
}

function FilterForm({ initial }: { initial: Filters }) {
  const [f, setF] = useState(initial);
  const categories = useCategoryOptions();
  const set = (key: keyof Filters) => (value: string) => setF((old) => ({ ...old, [key]: value }));
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(withQuery('/console/products', f));
      }}
    >
      <TextField label="Name contains" name="q" type="search" value={f.q} onInput={set('q')} />
      <SelectField label="Category" name="category_id" value={f.category_id} onChange={set('category_id')}>
        <option value="">All categories</option>
        {categories.options.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </SelectField>
      <TextField label="Min price (KES)" name="min_price" inputMode="decimal" value={f.min_price} onInput={set('min_price')} />
      <TextField label="Max price (KES)" name="max_price" inputMode="decimal" value={f.max_price} onInput={set('max_price')} />
      <Checkbox label="In stock only" name="in_stock" checked={f.in_stock === 'true'} onChange={(on) => set('in_stock')(on ? 'true' : '')} />
      <Checkbox
        label="Include inactive"
        name="include_inactive"
        checked={f.include_inactive === 'true'}
        onChange={(on) => set('include_inactive')(on ? 'true' : '')}
      />
      <button type="submit">Show products</button>
    </form>
  );
}

function ProductList({ filters }: { filters: Filters }) {
  const paging = usePaging();
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== '')) as Record<string, string>;
  const page = useLoad(() => get<Page<Product>>('/products', { ...query, limit: 20, cursor: paging.cursor }), [paging.cursor]);
  const products = page.data?.items ?? [];
  return (
    <>
      <Problem error={page.error} onRetry={page.reload} />
      {page.loading && <Status>Loading products…</Status>}
      {page.data && products.length === 0 && <p>No products match.</p>}
      {products.length > 0 && (
        <>
          <Table label="Products">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">SKU</th>
                <th scope="col">Price</th>
                <th scope="col">Stock</th>
                <th scope="col">Active</th>
              </tr>
            </thead>
            <tbody>
              {products.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link href={`/console/products/${encodeURIComponent(p.id)}`}>{p.name}</Link>
                  </td>
                  <td>{p.sku ?? '—'}</td>
                  <td class="num">{kes(p.price)}</td>
                  <td class="num">{p.stock_quantity}</td>
                  <td>{p.is_active ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager paging={paging} nextCursor={page.data?.next_cursor} label="Products" />
        </>
      )}
      <CsvExport<Product> what="products" route="/products" query={query} header={PRODUCT_CSV_HEADER} row={productCsvRow} />
    </>
  );
}

export function Products({ loc }: { loc: Location }) {
  const filters = Object.fromEntries(KEYS.map((k) => [k, loc.query.get(k) ?? ''])) as Filters;
  const key = KEYS.map((k) => filters[k]).join('|');
  return (
    <Screen
      title="Products"
      actions={
        <Link href="/console/products/new" class="button primary">
          New product
        </Link>
      }
    >
      <FilterForm key={key} initial={filters} />
      <ProductList key={key} filters={filters} />
    </Screen>
  );
}
