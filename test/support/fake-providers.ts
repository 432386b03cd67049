import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Set when the body was application/x-www-form-urlencoded. */
  form: Record<string, string> | undefined;
  /** Set when the body was JSON that parsed. */
  json: unknown;
}

export interface ScriptedResponse {
  status?: number;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering; a delay longer than the client's timeout simulates a stalled server. */
  delayMs?: number;
  /** Answer only once this settles (after delayMs): the test decides when a send in flight completes. */
  until?: Promise<unknown>;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  enqueueResponse(...responses: ScriptedResponse[]): void;
  /** Drops the scripted responses not used yet: from now on the server answers with its default. */
  clearResponses(): void;
  close(): Promise<void>;
}

type DefaultHandler = (request: RecordedRequest) => ScriptedResponse;

/** A loopback HTTP server that records every request and answers from a script, else from `fallback`. */
async function startFakeServer(fallback: DefaultHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    void readRequest(req).then((recorded) => {
      requests.push(recorded);
      const scripted = queue.shift() ?? fallback(recorded);
      const timer = setTimeout(() => {
        timers.delete(timer);
        void Promise.resolve(scripted.until).then(() => writeResponse(res, scripted));
      }, scripted.delayMs ?? 0);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake server has no TCP address');
  const { port } = address;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueueResponse: (...responses) => {
      queue.push(...responses);
    },
    clearResponses: () => {
      queue.length = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function readRequest(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const rawBody = Buffer.concat(chunks).toString('utf8');
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawBody,
    form:
      contentType === 'application/x-www-form-urlencoded'
        ? Object.fromEntries(new URLSearchParams(rawBody))
        : undefined,
    json: contentType === 'application/json' ? parseJson(rawBody) : undefined,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function writeResponse(res: ServerResponse, scripted: ScriptedResponse): void {
  if (res.destroyed) return;
  const isText = typeof scripted.body === 'string';
  const body = scripted.body === undefined ? '' : isText ? String(scripted.body) : JSON.stringify(scripted.body);
  const headers: Record<string, string> = {
    ...(scripted.body === undefined || isText ? {} : { 'content-type': 'application/json' }),
    ...scripted.headers,
  };
  res.writeHead(scripted.status ?? 200, headers);
  res.end(body);
}

/** The credentials a test passes in Basic auth, or undefined when the header is missing or malformed. */
function basicAuth(headers: IncomingHttpHeaders): { user: string; password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(headers.authorization ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface FakeTwilio extends FakeServer {
  accountSid: string;
  authToken: string;
}

export async function startFakeTwilio(
  credentials: { accountSid?: string; authToken?: string } = {},
): Promise<FakeTwilio> {
  const accountSid = credentials.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = credentials.authToken ?? randomBytes(16).toString('hex');
  const server = await startFakeServer((request) => answerTwilio(request, accountSid, authToken));
  return { ...server, accountSid, authToken };
}

function answerTwilio(request: RecordedRequest, accountSid: string, authToken: string): ScriptedResponse {
  const auth = basicAuth(request.headers);
  if (auth?.user !== accountSid || auth.password !== authToken) {
    return twilioError(401, 20003, 'Authenticate');
  }
  const path = new URL(request.url, 'http://fake').pathname;
  if (request.method !== 'POST' || path !== `/2010-04-01/Accounts/${accountSid}/Messages.json`) {
    return twilioError(404, 20404, 'The requested resource was not found');
  }
  const form = request.form ?? {};
  const sid = `SM${randomBytes(16).toString('hex')}`;
  return {
    status: 201,
    body: {
      sid,
      account_sid: accountSid,
      to: form.To ?? null,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      body: form.Body ?? null,
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    },
  };
}

/** Twilio's legacy error body, which the SDK turns into a RestException. */
export function twilioError(status: number, code: number, message: string): ScriptedResponse {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

export interface FakeVonage extends FakeServer {
  apiKey: string;
  apiSecret: string;
}

export async function startFakeVonage(credentials: { apiKey?: string; apiSecret?: string } = {}): Promise<FakeVonage> {
  const apiKey = credentials.apiKey ?? randomBytes(4).toString('hex');
  const apiSecret = credentials.apiSecret ?? randomBytes(8).toString('hex');
  const server = await startFakeServer((request) => answerVonage(request, apiKey, apiSecret));
  return { ...server, apiKey, apiSecret };
}

/** The fields Vonage's SMS API reads, from the form or JSON body; credentials may also come as Basic auth. */
export function vonageFields(request: RecordedRequest): Record<string, string> {
  const source = request.form ?? (isRecord(request.json) ? request.json : {});
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      fields[key] = String(value);
  }
  return fields;
}

function answerVonage(request: RecordedRequest, apiKey: string, apiSecret: string): ScriptedResponse {
  if (request.method !== 'POST' || new URL(request.url, 'http://fake').pathname !== '/sms/json') {
    return { status: 404, body: { type: 'https://developer.nexmo.com/api-errors#not-found', title: 'Not Found' } };
  }
  const fields = vonageFields(request);
  const auth = basicAuth(request.headers) ?? { user: fields.api_key, password: fields.api_secret };
  if (auth.user !== apiKey || auth.password !== apiSecret) {
    return vonageStatus('4', 'Bad Credentials');
  }
  return {
    status: 200,
    body: {
      'message-count': '1',
      messages: [
        {
          to: fields.to ?? '',
          'message-id': randomBytes(9).toString('hex'),
          status: '0',
          'remaining-balance': '3.14159265',
          'message-price': '0.03330000',
          network: '12345',
        },
      ],
    },
  };
}

/** Vonage answers 200 even for rejected messages; the per-message status says what happened. */
export function vonageStatus(status: string, errorText: string): ScriptedResponse {
  return {
    status: 200,
    body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] },
  };
}

export async function startFakeSmsGateway(): Promise<FakeServer> {
  let count = 0;
  return startFakeServer(() => {
    count += 1;
    return { status: 200, body: { id: `gw-${count}` } };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
