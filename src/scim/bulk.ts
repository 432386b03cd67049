/**
 * RFC 7644 section 3.7: a Bulk request, processed one operation at a time. Each operation is dispatched as
 * the single request it stands for (same route, same authorization, validation, ETag checks and mobile
 * verification), so every operation is atomic on its own and behaves exactly as it would outside Bulk.
 * This module only resolves `bulkId:` references, orders operations, honours failOnErrors and shapes the
 * BulkResponse; it knows nothing of HTTP frameworks.
 */
import { AppError } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';

export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface BulkOperation {
  method: string;
  path: string;
  bulkId?: string | undefined;
  version?: string | undefined;
  data?: unknown;
}

/** One operation as a request to a SCIM route: path relative to /scim2. */
export interface DispatchRequest {
  /** The operation's position in the request. */
  index: number;
  method: BulkMethod;
  path: string;
  ifMatch: string | undefined;
  body: unknown;
}

export interface DispatchResult {
  status: number;
  location: string | undefined;
  etag: string | undefined;
  /** The parsed JSON body (a resource, or a SCIM error), undefined for 204. */
  body: unknown;
}

export interface BulkResultOperation {
  method: BulkMethod;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: unknown;
}

const METHODS: readonly BulkMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE'];
const PATH = /^\/(Users|Groups)(?:\/([^/?#]+))?\/?$/;
const REFERENCE = /^bulkId:(.+)$/;

interface Checked {
  index: number;
  method: BulkMethod;
  path: string;
  bulkId: string | undefined;
  version: string | undefined;
  data: unknown;
  /** bulkIds this operation refers to, in its path or anywhere in its data. */
  references: Set<string>;
}

/**
 * Runs the operations. An operation naming a `bulkId:` waits until the POST defining it has run (so a group
 * may list members created later in the same request); one whose reference cannot be resolved (unknown, failed,
 * or circular) answers 409 invalidValue. After `failOnErrors` errors the rest is left unprocessed.
 */
export async function runBulk(
  operations: readonly BulkOperation[],
  failOnErrors: number | undefined,
  dispatch: (request: DispatchRequest) => Promise<DispatchResult>,
): Promise<BulkResultOperation[]> {
  const checked = operations.map(checkOperation);
  assertUniqueBulkIds(checked);
  const defined = new Set(
    checked.flatMap((operation) => (operation.bulkId && operation.method === 'POST' ? [operation.bulkId] : [])),
  );
  const created = new Map<string, string>();
  const failed = new Set<string>();
  const results = new Map<number, BulkResultOperation>();
  let errors = 0;
  let pending = [...checked];
  while (pending.length > 0) {
    const ready = pending.find((operation) => [...operation.references].every((ref) => isSettled(ref)));
    const next = ready ?? pending[0];
    if (next === undefined) break;
    pending = pending.filter((operation) => operation !== next);
    const result = ready === undefined ? unresolved(next, defined, failed) : await runOne(next, created, dispatch);
    results.set(next.index, result);
    const ok = Number(result.status) < 400;
    if (next.bulkId !== undefined && next.method === 'POST') {
      if (ok && result.location !== undefined) created.set(next.bulkId, idOf(result.location));
      else failed.add(next.bulkId);
    }
    if (!ok) {
      errors += 1;
      if (failOnErrors !== undefined && failOnErrors > 0 && errors >= failOnErrors) break;
    }
  }
  return [...results.entries()].sort(([a], [b]) => a - b).map(([, result]) => result);

  function isSettled(ref: string): boolean {
    return created.has(ref) || failed.has(ref) || !defined.has(ref);
  }
}

function idOf(location: string): string {
  return location.slice(location.lastIndexOf('/') + 1);
}

/** Every reference can be resolved (created), or the operation fails with 409 naming the first that cannot. */
async function runOne(
  operation: Checked,
  created: ReadonlyMap<string, string>,
  dispatch: (request: DispatchRequest) => Promise<DispatchResult>,
): Promise<BulkResultOperation> {
  const missing = [...operation.references].find((ref) => !created.has(ref));
  if (missing !== undefined) {
    return failure(
      operation,
      409,
      'invalidValue',
      `bulkId '${missing}' does not name a resource created in this request`,
    );
  }
  const path = resolve(operation.path, created) as string;
  const result = await dispatch({
    index: operation.index,
    method: operation.method,
    path,
    ifMatch: operation.version,
    body: resolve(operation.data, created),
  });
  const { location } = result;
  return {
    method: operation.method,
    ...(operation.bulkId === undefined ? {} : { bulkId: operation.bulkId }),
    ...(location === undefined ? {} : { location }),
    ...(result.etag === undefined ? {} : { version: result.etag }),
    status: String(result.status),
    ...(result.status >= 400 ? { response: result.body } : {}),
  };
}

function unresolved(
  operation: Checked,
  defined: ReadonlySet<string>,
  failed: ReadonlySet<string>,
): BulkResultOperation {
  const ref = [...operation.references].find((candidate) => defined.has(candidate) && !failed.has(candidate));
  return failure(operation, 409, 'invalidValue', `bulkId '${ref ?? ''}' is part of a circular reference`);
}

function failure(operation: Checked, status: number, scimType: string, detail: string): BulkResultOperation {
  return {
    method: operation.method,
    ...(operation.bulkId === undefined ? {} : { bulkId: operation.bulkId }),
    status: String(status),
    response: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), scimType, detail },
  };
}

/** Replaces every string `bulkId:x` (and a path segment `bulkId:x`) with the id created for x. */
function resolve(value: unknown, created: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    const whole = REFERENCE.exec(value);
    if (whole?.[1] !== undefined) return created.get(whole[1]) ?? value;
    return value.startsWith('/')
      ? value
          .split('/')
          .map((segment) => {
            const ref = REFERENCE.exec(segment)?.[1];
            return ref === undefined ? segment : (created.get(ref) ?? segment);
          })
          .join('/')
      : value;
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, created));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, created)]));
  return value;
}

function referencesIn(value: unknown, found: Set<string>): Set<string> {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'string') {
      const ref = REFERENCE.exec(current)?.[1];
      if (ref !== undefined) found.add(ref);
    } else if (Array.isArray(current)) {
      pending.push(...current);
    } else if (isObject(current)) {
      pending.push(...Object.values(current));
    }
  }
  return found;
}

/** Malformed operations make the whole request invalid: nothing has run yet. */
function checkOperation(operation: BulkOperation, index: number): Checked {
  const where = `Operations[${index}]`;
  const method = METHODS.find((candidate) => candidate === operation.method.toUpperCase());
  if (method === undefined) throw new AppError('INVALID_SYNTAX', `${where}: method must be POST, PUT, PATCH or DELETE`);
  const match = PATH.exec(operation.path);
  if (match === null)
    throw new AppError('INVALID_PATH', `${where}: path must be /Users, /Groups or one of their resources`);
  const hasId = match[2] !== undefined;
  if (method === 'POST' && hasId) throw new AppError('INVALID_PATH', `${where}: POST goes to /Users or /Groups`);
  if (method !== 'POST' && !hasId) throw new AppError('INVALID_PATH', `${where}: ${method} needs a resource path`);
  if (method === 'POST' && (operation.bulkId === undefined || operation.bulkId === '')) {
    throw new AppError('INVALID_VALUE', `${where}: a POST needs a bulkId`);
  }
  if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && !isObject(operation.data)) {
    throw new AppError('INVALID_SYNTAX', `${where}: ${method} needs an object as data`);
  }
  const references = referencesIn(operation.data, new Set());
  const pathRef = REFERENCE.exec(match[2] ?? '')?.[1];
  if (pathRef !== undefined) references.add(pathRef);
  return {
    index,
    method,
    path: operation.path,
    bulkId: operation.bulkId,
    version: operation.version,
    data: method === 'DELETE' ? undefined : operation.data,
    references,
  };
}

function assertUniqueBulkIds(operations: readonly Checked[]): void {
  const seen = new Set<string>();
  for (const operation of operations) {
    if (operation.bulkId === undefined) continue;
    if (seen.has(operation.bulkId)) throw new AppError('INVALID_VALUE', `bulkId '${operation.bulkId}' is used twice`);
    seen.add(operation.bulkId);
  }
}
