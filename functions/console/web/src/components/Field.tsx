// Form controls with their label, hint and field error (from a 422's `errors`), wired with
// aria-describedby / aria-invalid so the error is read with the control.

import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface Common {
  label: string;
  error?: string | undefined;
  hint?: string;
}

function Described({ id, hint, error }: { id: string; hint?: string; error?: string | undefined }) {
  return (
    <>
      {hint && (
        <span class="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </>
  );
}

function describedBy(id: string, hint?: string, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export function TextField({
  label,
  error,
  hint,
  value,
  onInput,
  type = 'text',
  name,
  required,
  inputMode,
  autoComplete = 'off',
  step,
  min,
  max,
  disabled,
}: Common & {
  value: string;
  onInput: (value: string) => void;
  type?: 'text' | 'search' | 'email' | 'tel' | 'number';
  name: string;
  required?: boolean;
  inputMode?: 'decimal' | 'numeric' | 'text' | 'email' | 'tel';
  autoComplete?: string;
  step?: string;
  min?: string;
  max?: string;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        // Preact's types pick the attribute set by one literal type; all are single-line boxes.
        type={type as 'text'}
        value={value}
        required={required}
        disabled={disabled}
        inputMode={inputMode}
        autoComplete={autoComplete}
        step={step}
        min={min}
        max={max}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <Described id={id} hint={hint} error={error} />
    </div>
  );
}

export function TextArea({
  label,
  error,
  hint,
  value,
  onInput,
  name,
}: Common & { value: string; onInput: (value: string) => void; name: string }) {
  const id = useId();
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      <textarea
        id={id}
        name={name}
        rows={3}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <Described id={id} hint={hint} error={error} />
    </div>
  );
}

export function SelectField({
  label,
  error,
  hint,
  value,
  onChange,
  name,
  children,
  disabled,
}: Common & {
  value: string;
  onChange: (value: string) => void;
  name: string;
  children: ComponentChildren;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      <select
        id={id}
        name={name}
        value={value}
        disabled={disabled}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {children}
      </select>
      <Described id={id} hint={hint} error={error} />
    </div>
  );
}

export function Checkbox({
  label,
  checked,
  onChange,
  name,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  name: string;
}) {
  const id = useId();
  return (
    <div class="field checkbox">
      <input
        id={id}
        name={name}
        type="checkbox"
        checked={checked}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{label}</label>
    </div>
  );
}

/** The message of the 422 error for `field` (exact, or a nested field under it). */
export function fieldError(
  errors: { field: string; message: string }[] | undefined,
  field: string,
): string | undefined {
  return errors?.find((e) => e.field === field || e.field.startsWith(`${field}.`))?.message;
}
