// How amounts, times and changes are written on screen.

/** `"1499.00"` → `KES 1,499.00` (money is a decimal string: never a float on the way). */
export function kes(amount: string | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!match) return `KES ${amount}`;
  const [, sign, whole, fraction = ''] = match;
  const grouped = (whole ?? '0').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (fraction + '00').slice(0, 2);
  return `KES ${sign}${grouped}.${cents}`;
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'Africa/Nairobi',
});

/** An RFC 3339 timestamp in Nairobi time, or a dash. */
export function when(timestamp: string | null | undefined): string {
  if (!timestamp) return '—';
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : dateTime.format(date);
}

/** A changed value as text (`null` as "none"). */
export function value(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
