import { useEffect, useState } from 'preact/hooks';
import { api } from '../shared/api';
import { Messages } from '../shared/messages';
import { messageOf } from '../shared/mobile-numbers';

const SENDERS = '/api/server/v1/notification-senders/sms';
const SENDER_NAME = 'SMSPublisher';

type Provider = 'Twilio' | 'Vonage' | 'Custom';
const PROVIDERS: Provider[] = ['Twilio', 'Vonage', 'Custom'];

/** What each account-based provider calls its key and its secret. */
const ACCOUNT_FIELDS = {
  Twilio: { key: 'Account SID', secret: 'Auth Token' },
  Vonage: { key: 'API Key', secret: 'API Secret' },
} as const;

interface Sender {
  name: string;
  provider: Provider;
  providerURL?: string;
  key?: string;
  sender?: string;
  contentType: 'JSON' | 'FORM';
  properties: { key: string; value: string }[];
}

interface Form {
  key: string;
  secret: string;
  sender: string;
  providerURL: string;
  contentType: 'JSON' | 'FORM';
  method: 'POST' | 'PUT';
  template: string;
  headers: string;
}

const EMPTY: Form = {
  key: '',
  secret: '',
  sender: '',
  providerURL: '',
  contentType: 'JSON',
  method: 'POST',
  template: '',
  headers: '',
};

function formOf(sender: Sender | undefined): Form {
  if (sender === undefined) return EMPTY;
  const property = (key: string) => sender.properties.find((entry) => entry.key === key)?.value;
  return {
    ...EMPTY,
    key: sender.key ?? '',
    sender: sender.sender ?? '',
    providerURL: sender.providerURL ?? '',
    contentType: sender.contentType,
    method: property('http.method') === 'PUT' ? 'PUT' : 'POST',
    template: property('body') ?? '',
  };
}

/** WSO2's SMSSender body; empty write-only fields are left out so the stored secret is kept. */
function bodyOf(provider: Provider, form: Form) {
  const secret = form.secret.trim() === '' ? {} : { secret: form.secret };
  if (provider !== 'Custom') {
    return { name: SENDER_NAME, provider, key: form.key, sender: form.sender, contentType: 'JSON', ...secret };
  }
  const properties = [
    { key: 'body', value: form.template },
    { key: 'http.method', value: form.method },
    ...(form.headers.trim() === '' ? [] : [{ key: 'http.headers', value: form.headers }]),
  ];
  return { name: SENDER_NAME, provider, providerURL: form.providerURL, contentType: form.contentType, properties };
}

export function SmsProviderPage() {
  const [stored, setStored] = useState<Sender | undefined>();
  const [loaded, setLoaded] = useState(false);
  const [tab, setTab] = useState<Provider>('Twilio');
  const [form, setForm] = useState<Form>(EMPTY);
  const [notice, setNotice] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [testNumber, setTestNumber] = useState('');

  async function load() {
    const response = await api<Sender[]>(SENDERS);
    const sender = response.body?.find((entry) => entry.name === SENDER_NAME) ?? response.body?.[0];
    setStored(sender);
    if (sender !== undefined) setTab(sender.provider);
    setForm(formOf(sender));
    setLoaded(true);
  }

  useEffect(() => {
    load().catch((failure: unknown) => setError(messageOf(failure)));
  }, []);

  const same = stored?.provider === tab;
  const set = (field: keyof Form) => (event: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: event.currentTarget.value });

  async function act(action: () => Promise<string>) {
    setNotice(undefined);
    setError(undefined);
    try {
      setNotice(await action());
    } catch (failure) {
      setError(messageOf(failure));
    }
  }

  const save = () =>
    act(async () => {
      const body = bodyOf(tab, form);
      if (stored === undefined) await api(SENDERS, { method: 'POST', body });
      else await api(`${SENDERS}/${encodeURIComponent(stored.name)}`, { method: 'PUT', body });
      await load();
      return `Saved: SMS goes through ${tab} now.`;
    });

  const remove = () =>
    act(async () => {
      if (stored === undefined) return 'Nothing to remove.';
      await api(`${SENDERS}/${encodeURIComponent(stored.name)}`, { method: 'DELETE' });
      await load();
      return "Removed: the server's own provider (SMS_PROVIDER) is used again.";
    });

  const sendTest = () =>
    act(async () => {
      await api('/api/server/v1/sms-test-messages', { method: 'POST', body: { mobile: testNumber } });
      return `Test SMS queued for ${testNumber}: see "SMS deliveries" for the outcome.`;
    });

  const secretHint = (label: string) =>
    same ? <span class="secret-set">{label} is set; leave blank to keep it.</span> : null;

  return (
    <>
      <section class="card">
        <h1>SMS provider</h1>
        <p class="hint">
          {stored === undefined
            ? loaded && "No provider is configured here: the server's SMS_PROVIDER setting is used."
            : `Configured: ${stored.provider}.`}
        </p>
        <div class="tabs" role="tablist" aria-label="Provider">
          {PROVIDERS.map((provider) => (
            <button
              key={provider}
              type="button"
              role="tab"
              id={`tab-${provider}`}
              aria-selected={tab === provider}
              aria-controls="provider-panel"
              onClick={() => {
                setTab(provider);
                setForm(provider === stored?.provider ? formOf(stored) : EMPTY);
              }}
            >
              {provider}
            </button>
          ))}
        </div>
        <div id="provider-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
          <form
            class="stack"
            onSubmit={(event) => {
              event.preventDefault();
              void save();
            }}
          >
            {tab !== 'Custom' && (
              <>
                <label for="key">{ACCOUNT_FIELDS[tab].key}</label>
                <input id="key" value={form.key} onInput={set('key')} autocomplete="off" />
                <label for="secret">{ACCOUNT_FIELDS[tab].secret}</label>
                <input
                  id="secret"
                  type="password"
                  value={form.secret}
                  onInput={set('secret')}
                  autocomplete="new-password"
                />
                {secretHint(`The ${ACCOUNT_FIELDS[tab].secret}`)}
                <label for="sender">Sender</label>
                <input id="sender" value={form.sender} onInput={set('sender')} />
              </>
            )}
            {tab === 'Custom' && (
              <>
                <label for="provider-url">SMS Provider URL</label>
                <input id="provider-url" type="url" value={form.providerURL} onInput={set('providerURL')} />
                <label for="content-type">Content Type</label>
                <select id="content-type" value={form.contentType} onChange={set('contentType')}>
                  <option value="JSON">JSON</option>
                  <option value="FORM">FORM</option>
                </select>
                <label for="http-method">HTTP Method</label>
                <select id="http-method" value={form.method} onChange={set('method')}>
                  <option value="POST">POST</option>
                  <option value="PUT">PUT</option>
                </select>
                <label for="payload-template">Payload Template</label>
                <textarea
                  id="payload-template"
                  value={form.template}
                  onInput={set('template')}
                  placeholder='{"to": {{mobile}}, "text": {{body}}}'
                />
                <label for="headers">Headers</label>
                <textarea
                  id="headers"
                  value={form.headers}
                  onInput={set('headers')}
                  placeholder="Authorization: Bearer …, X-Tenant: demo"
                />
                {same && <span class="secret-set">Stored headers are kept unless you enter new ones.</span>}
              </>
            )}
            <div class="row">
              <button type="submit">Save</button>
              {stored !== undefined && (
                <button type="button" class="secondary" onClick={() => void remove()}>
                  Remove configuration
                </button>
              )}
            </div>
          </form>
        </div>
      </section>
      <section class="card">
        <h2>Send test SMS</h2>
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void sendTest();
          }}
        >
          <label for="test-number">Test mobile number</label>
          <input id="test-number" type="tel" value={testNumber} onInput={(e) => setTestNumber(e.currentTarget.value)} />
          <button type="submit">Send test SMS</button>
        </form>
      </section>
      <Messages notice={notice} error={error} />
    </>
  );
}
