// An order's M-Pesa payment: what its payments add up to, each payment, and a prompt sent
// to the payer's phone (POST /orders/{id}/pay). The button is offered only when the API
// would take it, but a refusal (a prompt sent meanwhile from elsewhere) is still shown.

import { useState } from 'preact/hooks';
import { sendPrompt, type Order, type Payment } from '../api';
import { kes, when } from '../format';
import { useAction } from '../load';
import { methodWords, paymentStatusWords, resultWords, reversalWords, whyNoPrompt } from '../payments';
import { fieldError, TextField } from './Field';
import { Problem, Status } from './Problem';
import { Table } from './Table';

function PaymentRows({ payments }: { payments: Payment[] }) {
  return (
    <tbody>
      {payments.map((p) => (
        <tr key={p.id}>
          <td>{methodWords(p.method)}</td>
          <td>
            <span class={`badge state-${p.status}`}>{p.status}</span>
          </td>
          <td class="num">{kes(p.amount)}</td>
          <td>{p.receipt ?? '—'}</td>
          <td>{p.checkout_request_id ?? '—'}</td>
          <td>
{resultWords(p)}
          </td>
          <td>{reversalWords(p.reversal)}</td>
          <td class="nowrap">{p.phone_number ?? '—'}</td>
          <td>{when(p.updated_at)}</td>
        </tr>
      ))}
    </tbody>
  );
}

/** The prompt sent from this page, and what became of it (the order is read again). */
function sentWords(sent: Payment, order: Order): string {
  const now = (order.payments ?? []).find((p) => p.id === sent.id) ?? sent;
  const to = now.phone_number ? ` to ${now.phone_number}` : '';
  const head = `Prompt sent for ${kes(now.amount)}${to}`;
  if (now.status === 'succeeded') return `${head}: paid${now.receipt ? `, receipt ${now.receipt}` : ''}.`;
  if (now.status === 'failed') return `${head}: not paid (${resultWords(now)}).`;
  return `${head}: waiting for the payer to enter their PIN.`;
}

function PromptForm({ order, onSent }: { order: Order; onSent: () => void }) {
  const action = useAction();
  const [phone, setPhone] = useState('');
  const [sent, setSent] = useState<Payment | null>(null);
  const why = whyNoPrompt(order);
  async function send() {
    setSent(null);
    const payment = await action.run(() => sendPrompt(order.id, phone));
    if (payment) {
      setSent(payment);
      setPhone('');
    }
    // Sent or refused, the order has changed or may have: show it as it now is.
    onSent();
  }
  return (
    <form
      class="form inline"
      aria-label="Payment prompt"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <TextField
        label="Phone number (optional)"
        name="phone_number"
        type="tel"
        inputMode="tel"
        autoComplete="off"
        value={phone}
        onInput={setPhone}
        hint="Empty: the number on the customer's profile."
        error={fieldError(action.error?.errors, 'phone_number')}
      />
      <button type="submit" class="primary" disabled={action.busy || why !== null}>
        Send payment prompt
      </button>
      {why && <p class="hint prompt-why">{why}</p>}
      {sent && <Status>{sentWords(sent, order)}</Status>}
      <div class="prompt-problem">
        <Problem error={action.error} onRetry={send} />
      </div>
    </form>
  );
}

export function OrderPayment({ order, onChanged }: { order: Order; onChanged: () => void }) {
  const payments = order.payments ?? [];
  return (
    <section aria-labelledby="payment-heading" class="card wide">
      <h2 id="payment-heading">Payment</h2>
      <dl>
        <dt>Payment status</dt>
        <dd>
          <span class={`badge pay-${order.payment_status ?? 'unknown'}`} data-testid="payment-status">
            {paymentStatusWords(order.payment_status)}
          </span>
        </dd>
        <dt>Paybill account number</dt>
        <dd data-testid="payment-reference">{order.payment_reference ?? '—'}</dd>
        <dt>Paid</dt>
        <dd data-testid="amount-paid">{kes(order.amount_paid)}</dd>
        <dt>Due</dt>
        <dd data-testid="amount-due">{kes(order.amount_due)}</dd>
      </dl>
      {payments.length === 0 ? (
        <p>No payments yet.</p>
      ) : (
        <Table label="Payments of this order">
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">Status</th>
              <th scope="col">Amount</th>
              <th scope="col">Receipt</th>
              <th scope="col">Checkout request id</th>
              <th scope="col">Result</th>
              <th scope="col">Reversal</th>
              <th scope="col">Phone</th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <PaymentRows payments={payments} />
        </Table>
      )}
      <PromptForm order={order} onSent={onChanged} />
    </section>
  );
}
