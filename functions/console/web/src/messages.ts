// The messages about an order (docs/notifications.md) in words: what each told, how it was
// sent, what became of it and, when it went wrong, why.

import type { Order, OrderMessage } from './api';

const EVENTS: Record<string, string> = {
  'order.confirmed': 'Order confirmed',
  'payment.received': 'Payment received',
  'order.shipped': 'Shipped',
  'order.delivered': 'Delivered',
  'order.cancelled': 'Cancelled',
  'payment.reversed': 'Refund arrived',
};

export function eventWords(event: string): string {
  return EVENTS[event] ?? event;
}

export function channelWords(channel: string): string {
  if (channel === 'sms') return 'SMS';
  if (channel === 'email') return 'Email';
  return channel;
}

const STATUSES: Record<string, string> = {
  pending: 'Waiting',
  sent: 'Sent',
  skipped: 'Skipped',
  failed: 'Failed',
};

export function messageStatusWords(status: string): string {
  return STATUSES[status] ?? status;
}

export function deliveryWords(delivery: string | null): string {
  if (delivery === 'delivered') return 'Delivered';
  if (delivery === 'undelivered') return 'Not delivered';
  return delivery ?? '—';
}

// The classes the notifier records (Africa's Talking, SES, its own) and the reasons
// Africa's Talking gives for a text it could not deliver.
const REASONS: Record<string, string> = {
  user_in_blacklist: 'The number is blacklisted: the customer opted out of texts',
  invalid_phone_number: 'Not a valid phone number',
  unsupported_number_type: 'The number cannot receive texts',
  do_not_disturb_rejection: "Refused: the number is on Do Not Disturb",
  no_phone_number: 'The customer has no phone number',
  interrupted: 'Interrupted while sending; not sent again (it may have arrived)',
  http_4xx: 'The provider refused the request',
  http_5xx: "The provider's server failed",
  http_error: 'The provider answered with an error',
  timeout: 'The provider did not answer in time',
  network: 'The provider could not be reached',
  throttled: 'Too many messages at once (throttled)',
  unauthorized: 'The provider refused our API key',
  insufficient_balance: 'The SMS account has no credit left',
  insufficient_credit: 'The SMS account has no credit left',
  risk_hold: 'Held by the provider (risk hold)',
  gateway_error: "The provider's gateway failed",
  rejected_by_gateway: "Rejected by the provider's gateway",
  bad_request: 'The email could not be sent as written',
  message_rejected: 'The email was rejected (check the sender)',
  absent_subscriber: 'The phone was off or out of coverage',
  delivery_failure: 'The network could not deliver it',
  user_account_suspended: "The customer's line is suspended",
  user_inactive: "The customer's line is inactive",
  user_not_provisioned: "The customer's line cannot receive texts",
  user_does_not_exist: 'No such phone number',
  system_error: "The network's system failed",
};

/** `user_in_blacklist` → words; an unknown class as it is. */
export function messageReasonWords(reason: string): string {
  return REASONS[reason] ?? reason;
}

/** Why a message went wrong, or is being tried again, in words; a dash otherwise. */
export function whyWords(m: OrderMessage): string {
  if (!m.last_error) return '—';
  const reason = messageReasonWords(m.last_error);
  if (m.status === 'failed' || m.status === 'skipped' || m.delivery === 'undelivered') return reason;
  if (m.status === 'pending') return `Trying again: ${reason}`;
  return '—'; // sent after an earlier failure
}

/** Every message about `order`, oldest first (the confirmation's channels on an older stack). */
export function messagesOf(order: Order): OrderMessage[] {
  if (order.messages) return order.messages;
  const n = order.notifications;
  if (!n || !order.confirmed_at) return [];
  return (['sms', 'email'] as const).map((channel) => ({
    event: 'order.confirmed',
    channel,
    ...n[channel],
    delivery: null,
    sent_at: null,
  }));
}

/** The messages of `order` that failed or were not delivered. */
export function failedMessages(order: Order): OrderMessage[] {
  return messagesOf(order).filter((m) => m.status === 'failed' || m.delivery === 'undelivered');
}
