// The shop-wide change history, newest first; optionally one entity's.

import { useState } from 'preact/hooks';
import { SelectField, TextField } from '../components/Field';
import { History } from '../components/History';
import { Screen } from '../components/Screen';
import { navigate, withQuery, type Location } from '../router';

export function HistoryScreen({ loc }: { loc: Location }) {
  const type = loc.query.get('entity_type') ?? '';
  const id = loc.query.get('entity_id') ?? '';
  const [t, setT] = useState(type);
  const [i, setI] = useState(id);
  const filtered = type !== '' && id !== '';
  return (
    <Screen title="History">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withQuery('/console/history', t && i.trim() ? { entity_type: t, entity_id: i.trim() } : {}));
        }}
      >
        <SelectField label="Kind" name="entity_type" value={t} onChange={setT} hint="Both kind and id, or neither.">
          <option value="">Everything</option>
          <option value="category">Category</option>
          <option value="product">Product</option>
          <option value="order">Order</option>
        </SelectField>
        <TextField label="Id" name="entity_id" value={i} onInput={setI} />
        <button type="submit">Show history</button>
      </form>
      <History
        key={`${type}|${id}`}
        entityType={filtered ? type : undefined}
        entityId={filtered ? id : undefined}
        showEntity
      />
    </Screen>
  );
}
