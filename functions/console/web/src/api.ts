// The API client: same origin (no CORS), the admin's bearer token on every call, and every
// failure turned into an ApiError carrying the problem's title, detail and field errors.
// A 401 ends the session (the app then shows the sign-in page).

import { currentToken, signOut } from './session';

const BASE = '/api/v1';

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly body: Record<string, unknown>;

  constructor(status: number, title: string, detail: string, errors: FieldError[] = [], body = {}) {
    super(`${title}: ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.body = body;
  }

  /** Whether trying the same request again may work (service unavailable, network). */
  get retryable(): boolean {
    return this.status === 503 || this.status === 0;
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function path(route: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '' && value !== false) {
      params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `${route}?${text}` : route;
}

async function problem(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    // Not JSON (a gateway's own page): the status line is all there is.
  }
  const title = typeof body.title === 'string' ? body.title : response.statusText || 'Request failed';
  const detail =
    typeof body.detail === 'string'
      ? body.detail
      : typeof body.message === 'string'
        ? body.message
        : `The API answered HTTP ${response.status}.`;
  const errors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
  return new ApiError(response.status, title, detail, errors, body);
}

export async function request<T>(method: string, route: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(BASE + route, init);
  } catch {
    throw new ApiError(0, 'The API could not be reached', 'Check the connection and try again.');
  }
  if (response.status === 401 && token) {
    signOut('Your session has ended. Sign in again.');
  }
  if (!response.ok) throw await problem(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(route: string, query?: Query) => request<T>('GET', path(route, query));
export const post = <T>(route: string, body?: unknown) => request<T>('POST', route, body);
export const patch = <T>(route: string, body: unknown) => request<T>('PATCH', route, body);
export const del = (route: string) => request<void>('DELETE', route);

// ---- the shapes of the contract the console reads --------------------------------------

export interface Me {
  id: string;
  email: string;
  name: string;
  phone_number: string | null;
  is_admin: boolean;
}

export interface Customer extends Me {
  created_at: string;
  updated_at: string;
  order_count?: number;
}

export interface CategoryNode {
  id: string;
  name: string;
  slug: string;
  level: number;
  children: CategoryNode[];
}

export interface Category {
  id: string;
  name: string;
  parent_id: string | null;
}

export interface Product {
  id: string;
  name: string;
  description: string | null;
  sku: string | null;
  price: string;
  stock_quantity: number;
  /** How many stored records the stock is split over (1 to 32; 1 unless split for a sale). */
  stock_buckets: number;
  category_id: string;
  category_path: string[];
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export interface OrderLine {
  product_id: string;
  product_name: string;
  sku: string | null;
  unit_price: string;
  quantity: number;
  line_total: string;
}

export interface Channel {
  status: 'pending' | 'sent' | 'skipped' | 'failed' | string;
  attempts: number;
  last_error: string | null;
}

export type MessageEvent =
  | 'order.confirmed'
  | 'payment.received'
  | 'order.shipped'
  | 'order.delivered'
  | 'order.cancelled'
  | 'payment.reversed';

/**
 * One message about an order (admins only): the confirmation's SMS and email, then one
 * SMS to the customer per event. `last_error` is a class (`user_in_blacklist`); for a
 * message not delivered, the provider's reason.
 */
export interface OrderMessage {
  event: MessageEvent | string;
  channel: 'sms' | 'email' | string;
  status: Channel['status'];
  attempts: number;
  last_error: string | null;
  delivery: 'delivered' | 'undelivered' | null;
  sent_at: string | null;
}

export type OrderStatus =
  | 'PENDING'
  | 'CONFIRMED'
  | 'PROCESSING'
  | 'SHIPPED'
  | 'DELIVERED'
  | 'CANCELLED';

/** Who placed an order, as admins' order lists name them (null when the record is gone). */
export interface OrderCustomer {
  id: string;
  name: string | null;
  email: string | null;
}

export interface Order {
  id: string;
  order_number: string;
  customer_id: string;
  /** In admins' lists: the customer's name and e-mail as they are now. */
  customer?: OrderCustomer;
  status: OrderStatus;
  items: OrderLine[];
  subtotal: string;
  tax_amount: string;
  total_amount: string;
  currency: string;
  delivery_address: string;
  notes: string | null;
  sms_sent: boolean;
  email_sent: boolean;
  created_at: string;
  updated_at: string;
  confirmed_at: string | null;
  cancelled_at: string | null;
  notifications?: { sms: Channel; email: Channel };
  /** Admins only: every message about the order, oldest first. */
  messages?: OrderMessage[];
  // M-Pesa (docs/payments.md); optional only for a stack older than the payments.
  payment_status?: PaymentStatus;
  payment_reference?: string;
  amount_paid?: string;
  amount_due?: string;
  payments?: Payment[];
}

export type PaymentStatus = 'refunded' | 'refund_pending' | 'paid' | 'partially_paid' | 'pending' | 'unpaid';

export const PAYMENT_STATUSES: PaymentStatus[] = [
  'paid',
  'partially_paid',
  'pending',
  'unpaid',
  'refund_pending',
  'refunded',
];

export interface PaymentReversal {
  status: 'requested' | 'reversed' | 'failed' | string;
  result_code: string | null;
  at: string;
}

/** One M-Pesa payment of an order (a prompt, or a Paybill payment naming it). */
export interface Payment {
  id: string;
  method: 'mpesa_prompt' | 'mpesa_paybill' | string;
  status: 'pending' | 'succeeded' | 'failed' | 'reversed' | string;
  amount: string;
  phone_number: string | null;
  payer_name: string | null;
  receipt: string | null;
  checkout_request_id: string | null;
  result_code: string | null;
  result_description: string | null;
  reversal: PaymentReversal | null;
  created_at: string;
  updated_at: string;
}

/** A Paybill payment whose account number named no order (GET /payments?status=unmatched). */
export interface UnmatchedPayment {
  id: string;
  method: string;
  receipt: string | null;
  amount: string;
  phone_number: string | null;
  payer_name: string | null;
  account_reference: string | null;
  paid_at: string;
}

/** A payment staff must act on (GET /payments?status=attention). */
export interface AttentionPayment extends Payment {
  order_id: string;
  order_number: string;
  reason: 'reversal_failed' | 'held_on_cancelled_order' | 'missing_receipt' | 'overpaid' | string;
}

/** Who made a change: a signed-in account, or M-Pesa for its own calls (no e-mail). */
export type AuditActor = { id: string; email: string } | { id: 'mpesa'; email: null };

export interface AuditEntry {
  id: string;
  at: string;
  actor: AuditActor | null;
  action: string;
  entity_type: 'category' | 'product' | 'order' | string;
  entity_id: string;
  /** The name or order number as it was; absent on entries recorded before labels. */
  entity_label?: string;
  changes: Record<string, { from?: unknown; to?: unknown }> | null;
}

export const STATUSES: OrderStatus[] = [
  'PENDING',
  'CONFIRMED',
  'PROCESSING',
  'SHIPPED',
  'DELIVERED',
  'CANCELLED',
];

/** The one legal step forward from `status` (docs/api.md, Orders), if any. */
export function nextStatus(status: OrderStatus): OrderStatus | null {
  switch (status) {
    case 'PENDING':
      return 'CONFIRMED';
    case 'CONFIRMED':
      return 'PROCESSING';
    case 'PROCESSING':
      return 'SHIPPED';
    case 'SHIPPED':
      return 'DELIVERED';
    default:
      return null;
  }
}

/** Whether an admin may still cancel an order in `status`. */
export function cancellable(status: OrderStatus): boolean {
  return status === 'PENDING' || status === 'CONFIRMED' || status === 'PROCESSING';
}

/** Moves `order` one legal step forward: confirming has its own route (it notifies). */
export function advance(order: { id: string; status: OrderStatus }): Promise<Order> {
  const next = nextStatus(order.status);
  if (next === null) {
    return Promise.reject(
      new ApiError(409, 'No next status', `An order that is ${order.status} cannot move on.`),
    );
  }
  const id = encodeURIComponent(order.id);
  if (next === 'CONFIRMED') return post<Order>(`/orders/${id}/confirm`);
  return patch<Order>(`/orders/${id}/status`, { status: next });
}

export function cancelOrder(id: string): Promise<Order> {
  return post<Order>(`/orders/${encodeURIComponent(id)}/cancel`);
}

/** An M-Pesa prompt for what the order owes, to `phone` or the customer's profile number. */
export function sendPrompt(orderId: string, phone: string): Promise<Payment> {
  const body = phone.trim() ? { phone_number: phone.trim() } : {};
  return post<Payment>(`/orders/${encodeURIComponent(orderId)}/pay`, body);
}

/** Puts an unmatched payment on an order. */
export function assignPayment(paymentId: string, orderId: string): Promise<{ order_id: string; payment: Payment }> {
  return post(`/payments/${encodeURIComponent(paymentId)}/assign`, { order_id: orderId });
}
