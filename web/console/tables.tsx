import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AUDIT_EVENT_TYPES } from '../../src/audit/audit-event-types';
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

type Listing<T> = ReturnType<typeof useListing<T>>;

interface ListingTableProps<T> {
  title: string;
  /** The table's accessible name, when it differs from the title. */
  tableLabel?: string;
  hint?: string;
  listing: Listing<T>;
  filters: ComponentChildren;
  columns: readonly string[];
  row: (item: T) => ComponentChildren;
}

/** The page every listing shares: filters with Refresh, the error, the table and the pager. */
function ListingTable<T>({ title, tableLabel, hint, listing, filters, columns, row }: ListingTableProps<T>) {
  return (
    <section class="card">
      <h1>{title}</h1>
      {hint !== undefined && <p class="hint">{hint}</p>}
      <div class="filters">
        {filters}
        <button type="button" class="secondary" onClick={listing.refresh}>
          Refresh
        </button>
      </div>
      {listing.error !== undefined && (
        <p class="error" role="alert">
          {listing.error}
        </p>
      )}
      <table aria-label={tableLabel ?? title}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column}>{column}</th>
            ))}
          </tr>
        </thead>
        <tbody>{listing.page?.items.map(row)}</tbody>
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

interface FilterProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
}

function ChoiceFilter({ label, value, onChange, choices }: FilterProps & { choices: readonly string[] }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    </label>
  );
}

function TextFilter({ label, value, onChange, placeholder }: FilterProps & { placeholder: string }) {
  return (
    <label>
      {label}
      <input value={value} onChange={(e) => onChange(e.currentTarget.value)} placeholder={placeholder} />
    </label>
  );
}

function TimeFilter({ label, value, onChange }: FilterProps) {
  return (
    <label>
      {label}
      <input type="datetime-local" value={value} onChange={(e) => onChange(e.currentTarget.value)} />
    </label>
  );
}

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
    <ListingTable
      title="SMS deliveries"
      listing={listing}
      filters={
        <>
          <ChoiceFilter label="State" value={state} onChange={setState} choices={DELIVERY_STATES} />
          <TextFilter label="User ID" value={userId} onChange={setUserId} placeholder="any user" />
        </>
      }
      columns={['Created', 'To', 'Purpose', 'State', 'Attempts', 'Provider', 'Sent', 'Last error']}
      row={(delivery) => (
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
      )}
    />
  );
}

const DELIVERY_STATES = ['queued', 'sending', 'sent', 'failed', 'expired'];

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
    <ListingTable
      title="Audit"
      tableLabel="Audit events"
      listing={listing}
      filters={
        <>
          <ChoiceFilter label="Event type" value={type} onChange={setType} choices={AUDIT_EVENT_TYPES} />
          <TextFilter label="User ID" value={userId} onChange={setUserId} placeholder="any user" />
          <TimeFilter label="Since" value={from} onChange={setFrom} />
        </>
      }
      columns={['Time', 'Event', 'User', 'By', 'Number', 'Client IP', 'Details']}
      row={(event) => (
        <tr key={event.id}>
          <td>{time(event.occurredAt)}</td>
          <td>{event.type}</td>
          <td class="mono">{event.userId ?? '—'}</td>
          <td>{event.persona ?? '—'}</td>
          <td class="mono">{event.maskedNumber ?? '—'}</td>
          <td class="mono">{event.clientIp ?? '—'}</td>
          <td class="mono">{event.details === null ? '' : JSON.stringify(event.details)}</td>
        </tr>
      )}
    />
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
    <ListingTable
      title="SMS inbox"
      hint="Development only (SMS_PROVIDER=inbox): the messages the server would have sent."
      listing={listing}
      filters={<TextFilter label="Number" value={to} onChange={setTo} placeholder="any number" />}
      columns={['Number', 'Text', 'Time']}
      row={(message) => (
        <tr key={message.id}>
          <td class="mono">{message.to}</td>
          <td>{message.text}</td>
          <td>{time(message.createdAt)}</td>
        </tr>
      )}
    />
  );
}
