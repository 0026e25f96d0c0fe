// M-Pesa payments in words (docs/payments.md): an order's payment status, a payment's
// method, state and reversal, why staff must look at one, and why no prompt can be sent.

import type { Order, Payment, PaymentReversal } from './api';

const STATUS_WORDS: Record<string, string> = {
  refunded: 'refunded',
  refund_pending: 'refund pending',
  paid: 'paid',
  partially_paid: 'partially paid',
  pending: 'pending',
  unpaid: 'unpaid',
};

/** `partially_paid` → "partially paid". */
export function paymentStatusWords(status: string | undefined): string {
  if (!status) return '—';
  return STATUS_WORDS[status] ?? status;
}

export function methodWords(method: string): string {
  if (method === 'mpesa_prompt') return 'Prompt';
  if (method === 'mpesa_paybill') return 'Paybill';
  return method;
}

export function reversalWords(reversal: PaymentReversal | null): string {
  if (!reversal) return '—';
  const code = reversal.result_code ? ` (${reversal.result_code})` : '';
  return `${reversal.status}${code}`;
}

/** M-Pesa's result code and description: `1032: Request cancelled by user`. */
export function resultWords(p: { result_code: string | null; result_description: string | null }): string {
  const parts = [p.result_code, p.result_description].filter((x) => x !== null && x !== '');
  return parts.length ? parts.join(': ') : '—';
}

const REASONS: Record<string, string> = {
  reversal_failed: 'Reversal failed: M-Pesa refused or never answered; reverse it from the M-Pesa portal',
  held_on_cancelled_order: 'Money held on a cancelled order',
  missing_receipt: 'Paid, but no M-Pesa receipt reached us: find it by checkout id',
  overpaid: 'Overpaid: the order holds more than its total',
};

/** Why a payment needs staff, in plain words. */
export function reasonWords(reason: string): string {
  return REASONS[reason] ?? reason;
}

/** Why the console offers no prompt for `order` (the API would answer 409), or null. */
export function whyNoPrompt(order: Order): string | null {
  if (order.status === 'CANCELLED') return 'The order is cancelled: no prompt can be sent.';
  if (order.amount_due === '0.00') return 'Nothing is due on this order.';
  if ((order.payments ?? []).some((p: Payment) => p.status === 'pending')) {
    return "A prompt is waiting on the payer's phone.";
  }
  return null;
}

/** An order number (ORD-20261125-7KQ2MZ), which the assign form cannot take. */
export function looksLikeOrderNumber(text: string): boolean {
  return /^ORD-\d{8}-[0-9A-Z]{6}$/i.test(text.trim());
}
