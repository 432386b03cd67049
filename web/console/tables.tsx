import { useEffect, useState } from 'preact/hooks';
import { api } from '../shared/api';
import { messageOf } from '../shared/mobile-numbers';
import { Pager } from './pager';

const SERVER = '/api/server/v1';
const PAGE_SIZE = 20;

interface Page<T> {
  totalResults: number;
  items: T[];
}

/** A filterable, paged table over one of the server's list endpoints. */
function useListing<T>(path: string, listKey: string, filters: Record<string, string>) {
  const [startIndex, setStartIndex] = useState(1);
  const [page, setPage] = useState<Page<T> | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(filters);
  useEffect(() => setStartIndex(1), [key]);
  useEffect(() => {
    const query = new URLSearchParams({ startIndex: String(startIndex), count: String(PAGE_SIZE) });
    for (const [name, value] of Object.entries(filters)) if (value.trim() !== '') query.set(name, value.trim());
    api<Record<string, unknown>>(`${path}?${query}`)
      .then((response) => {
        const body = response.body ?? {};
        setPage({ totalResults: Number(body.totalResults ?? 0), items: (body[listKey] as T[] | undefined) ?? [] });
        setError(undefined);
      })
      .catch((failure: unknown) => setError(messageOf(failure)));
  }, [path, key, startIndex, tick]);
  return { page, error, startIndex, setStartIndex, refresh: () => setTick(tick + 1) };
}

const time = (iso: string | null) => (iso === null ? '—' : new Date(iso).toLocaleString());

interface Delivery {
  id: string;
  userId: string | null;
  purpose: string;
  to: string;
  state: string;
  attempts: number;
  lastError: string | null;
  provider: string | null;
  createdAt: string;
  sentAt: string | null;
}

export function DeliveriesPage() {
  const [state, setState] = useState('');
  const [userId, setUserId] = useState('');
  const listing = useListing<Delivery>(`${SERVER}/sms-deliveries`, 'deliveries', { state, userId });
  return (
    <section class="card">
      <h1>SMS deliveries</h1>
      <div class="filters">
        <label>
          State
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">Any</option>
            {['queued', 'sending', 'sent', 'failed'].map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <label>
          User ID
          <input value={userId} onChange={(e) => setUserId(e.currentTarget.value)} placeholder="any user" />
        </label>
        <button type="button" class="secondary" onClick={listing.refresh}>
          Refresh
        </button>
      </div>
      {listing.error !== undefined && (
        <p class="error" role="alert">
          {listing.error}
        </p>
      )}
      <table aria-label="SMS deliveries">
        <thead>
          <tr>
            <th>Created</th>
            <th>To</th>
            <th>Purpose</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Provider</th>
            <th>Sent</th>
            <th>Last error</th>
          </tr>
        </thead>
        <tbody>
          {listing.page?.items.map((delivery) => (
            <tr key={delivery.id}>
              <td>{time(delivery.createdAt)}</td>
              <td class="mono">{delivery.to}</td>
              <td>{delivery.purpose}</td>
              <td>{delivery.state}</td>
              <td>{delivery.attempts}</td>
              <td>{delivery.provider ?? '—'}</td>
              <td>{time(delivery.sentAt)}</td>
              <td>{delivery.lastError ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {listing.page !== undefined && (
        <Pager
          startIndex={listing.startIndex}
          count={PAGE_SIZE}
          total={listing.page.totalResults}
          onPage={listing.setStartIndex}
        />
      )}
    </section>
  );
}

interface AuditEvent {
  id: string;
  occurredAt: string;
  type: string;
  userId: string | null;
  actorId: string | null;
  persona: string | null;
  maskedNumber: string | null;
  clientIp: string | null;
  details: Record<string, unknown> | null;
}

const AUDIT_TYPES = [
  'VERIFICATION_STARTED',
  'CODE_SENT',
  'DELIVERY_FAILED',
  'CODE_RESENT',
  'WRONG_CODE',
  'CODE_LOCKED',
  'VERIFIED',
  'CODE_EXPIRED',
  'VERIFICATION_SKIPPED',
  'PRIVILEGED_BYPASS',
];

export function AuditPage() {
  const [type, setType] = useState('');
  const [userId, setUserId] = useState('');
  const [from, setFrom] = useState('');
  const listing = useListing<AuditEvent>(`${SERVER}/audit-events`, 'events', {
    type,
    userId,
    from: from === '' ? '' : new Date(from).toISOString(),
  });
  return (
    <section class="card">
      <h1>Audit</h1>
      <div class="filters">
        <label>
          Event type
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">Any</option>
            {AUDIT_TYPES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <label>
          User ID
          <input value={userId} onChange={(e) => setUserId(e.currentTarget.value)} placeholder="any user" />
        </label>
        <label>
          Since
          <input type="datetime-local" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <button type="button" class="secondary" onClick={listing.refresh}>
          Refresh
        </button>
      </div>
      {listing.error !== undefined && (
        <p class="error" role="alert">
          {listing.error}
        </p>
      )}
      <table aria-label="Audit events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>User</th>
            <th>By</th>
            <th>Number</th>
            <th>Client IP</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {listing.page?.items.map((event) => (
            <tr key={event.id}>
              <td>{time(event.occurredAt)}</td>
              <td>{event.type}</td>
              <td class="mono">{event.userId ?? '—'}</td>
              <td>{event.persona ?? '—'}</td>
              <td class="mono">{event.maskedNumber ?? '—'}</td>
              <td class="mono">{event.clientIp ?? '—'}</td>
              <td class="mono">{event.details === null ? '' : JSON.stringify(event.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {listing.page !== undefined && (
        <Pager
          startIndex={listing.startIndex}
          count={PAGE_SIZE}
          total={listing.page.totalResults}
          onPage={listing.setStartIndex}
        />
      )}
    </section>
  );
}

interface InboxMessage {
  id: string;
  to: string;
  text: string;
  createdAt: string;
}

export function InboxPage() {
  const [to, setTo] = useState('');
  const listing = useListing<InboxMessage>(`${SERVER}/sms-inbox`, 'messages', { to });
  return (
    <section class="card">
      <h1>SMS inbox</h1>
      <p class="hint">Development only (SMS_PROVIDER=inbox): the messages the server would have sent.</p>
      <div class="filters">
        <label>
          Number
          <input value={to} onChange={(e) => setTo(e.currentTarget.value)} placeholder="any number" />
        </label>
        <button type="button" class="secondary" onClick={listing.refresh}>
          Refresh
        </button>
      </div>
      {listing.error !== undefined && (
        <p class="error" role="alert">
          {listing.error}
        </p>
      )}
      <table aria-label="SMS inbox">
        <thead>
          <tr>
            <th>Number</th>
            <th>Text</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {listing.page?.items.map((message) => (
            <tr key={message.id}>
              <td class="mono">{message.to}</td>
              <td>{message.text}</td>
              <td>{time(message.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {listing.page !== undefined && (
        <Pager
          startIndex={listing.startIndex}
          count={PAGE_SIZE}
          total={listing.page.totalResults}
          onPage={listing.setStartIndex}
        />
      )}
    </section>
  );
}
