// Categories: the tree; pick a category to rename it, move it under another parent, add a
// child to it or delete it (the API refuses a category that is not empty: its 409 is
// shown in words). New top-level categories are added under the tree.

import { useState } from 'preact/hooks';
import { del, patch, post, type Category, type CategoryNode } from '../api';
import { flatten, useCategoryTree, type CategoryOption } from '../categories';
import { Confirm } from '../components/Confirm';
import { History } from '../components/History';
import { fieldError, SelectField, TextField } from '../components/Field';
import { Problem, Status } from '../components/Problem';
import { Screen } from '../components/Screen';
import { useAction } from '../load';

function Tree({ nodes, selected, onSelect }: { nodes: CategoryNode[]; selected: string | null; onSelect: (id: string) => void }) {
  return (
    <ul class="tree">
      {nodes.map((n) => (
        <li key={n.id}>
          <button type="button" class="node" aria-pressed={selected === n.id} onClick={() => onSelect(n.id)}>
            {n.name}
          </button>
          {n.children.length > 0 && <Tree nodes={n.children} selected={selected} onSelect={onSelect} />}
        </li>
      ))}
    </ul>
  );
}

function NameForm({
  label,
  submit,
  initial = '',
  onDone,
  formLabel,
}: {
  label: string;
  submit: (name: string) => Promise<Category>;
  initial?: string;
  onDone: (c: Category) => void;
  formLabel: string;
}) {
  const [name, setName] = useState(initial);
  const action = useAction();
  async function save(e?: Event) {
    e?.preventDefault();
    const saved = await action.run(() => submit(name));
    if (saved) {
      if (!initial) setName('');
      onDone(saved);
    }
  }
  const errors = action.error?.status === 422 ? action.error.errors : undefined;
  return (
    <form class="form inline" onSubmit={save} noValidate aria-label={formLabel}>
      <TextField label="Name" name="name" value={name} onInput={setName} error={fieldError(errors, 'name')} required />
      <button type="submit" disabled={action.busy}>
        {label}
      </button>
      <Problem error={action.error} onRetry={save} />
    </form>
  );
}

function MoveForm({ option, options, onDone }: { option: CategoryOption; options: CategoryOption[]; onDone: () => void }) {
  const [parent, setParent] = useState('');
  const action = useAction();
  const targets = options.filter((o) => !option.subtree.has(o.id));
  async function move(e?: Event) {
    e?.preventDefault();
    const moved = await action.run(() => patch<Category>(`/categories/${encodeURIComponent(option.id)}`, { parent_id: parent || null }));
    if (moved) onDone();
  }
  return (
    <form class="form inline" onSubmit={move} aria-label="Move category">
      <SelectField label="New parent" name="parent_id" value={parent} onChange={setParent}>
        <option value="">(top level)</option>
        {targets.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label}
          </option>
        ))}
      </SelectField>
      <button type="submit" disabled={action.busy}>
        Move
      </button>
      <Problem error={action.error} onRetry={move} />
    </form>
  );
}

function CategoryPanel({
  option,
  options,
  name,
  onChanged,
  onDeleted,
}: {
  option: CategoryOption;
  options: CategoryOption[];
  name: string;
  onChanged: (id?: string) => void;
  onDeleted: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const action = useAction();
  const id = encodeURIComponent(option.id);
  async function remove() {
    const ok = await action.run(async () => {
      await del(`/categories/${id}`);
      return true;
    });
    setAsking(false);
    if (ok) onDeleted();
  }
  return (
    <section aria-labelledby="panel-heading" class="card">
      <h2 id="panel-heading">{option.label}</h2>
      {note && <Status>{note}</Status>}
      <h3>Rename</h3>
      <NameForm
        label="Rename"
        formLabel="Rename category"
        initial={name}
        submit={(n) => patch<Category>(`/categories/${id}`, { name: n })}
        onDone={() => {
          setNote('Renamed.');
          setRound((r) => r + 1);
          onChanged();
        }}
      />
      <h3>Move</h3>
      <MoveForm
        option={option}
        options={options}
        onDone={() => {
          setNote('Moved.');
          setRound((r) => r + 1);
          onChanged();
        }}
      />
      <h3>Add a child category</h3>
      <NameForm
        label="Add child"
        formLabel="Add a child category"
        submit={(n) => post<Category>('/categories', { name: n, parent_id: option.id })}
        onDone={(c) => onChanged(c.id)}
      />
      <h3>Delete</h3>
      <p class="hint">Only an empty category (no children, no products) can be deleted.</p>
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        Delete category
      </button>
      <Problem error={action.error} onRetry={remove} />
      <Confirm
        open={asking}
        title={`Delete ${name}?`}
        confirmLabel="Delete"
        busy={action.busy}
        onConfirm={remove}
        onCancel={() => setAsking(false)}
      >
        <p>The category is removed for good.</p>
      </Confirm>
      <h3>History</h3>
      <History entityType="category" entityId={option.id} reloadKey={round} />
    </section>
  );
}

function find(nodes: CategoryNode[], id: string): CategoryNode | undefined {
  for (const n of nodes) {
    if (n.id === id) return n;
    const below = find(n.children, id);
    if (below) return below;
  }
  return undefined;
}

export function Categories() {
  const tree = useCategoryTree();
  const [selected, setSelected] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const nodes = tree.data ?? [];
  const options = flatten(nodes);
  const option = selected ? options.find((o) => o.id === selected) : undefined;
  const node = selected ? find(nodes, selected) : undefined;
  return (
    <Screen title="Categories">
      <Problem error={tree.error} onRetry={tree.reload} />
      {note && <Status>{note}</Status>}
      <div class="split">
        <section aria-labelledby="tree-heading" class="card">
          <h2 id="tree-heading">Tree</h2>
          {tree.loading && !tree.data && <Status>Loading categories…</Status>}
          {tree.data && nodes.length === 0 && <p>No categories yet.</p>}
          <Tree nodes={nodes} selected={selected} onSelect={(id) => setSelected(id === selected ? null : id)} />
          <h3>New top-level category</h3>
          <NameForm
            label="Create"
            formLabel="New top-level category"
            submit={(n) => post<Category>('/categories', { name: n })}
            onDone={(c) => {
              setSelected(c.id);
              tree.reload();
            }}
          />
        </section>
        {option && node && (
          <CategoryPanel
            key={option.id}
            option={option}
            options={options}
            name={node.name}
            onChanged={(id) => {
              if (id) setSelected(id);
              tree.reload();
            }}
            onDeleted={() => {
              setNote(`Deleted ${node.name}.`);
              setSelected(null);
              tree.reload();
            }}
          />
        )}
      </div>
    </Screen>
  );
}
