import { AppError } from '../errors/app-error.js';
import type { MemberInput, MemberKind } from '../groups/group.js';
import type { GroupInput } from '../groups/group-service.js';
import { isObject } from '../shared/values.js';
import { CORE_GROUP_SCHEMA } from './group-schema.js';

type ScimObject = Record<string, unknown>;

/** Attribute names of a Group body, case-insensitively, with or without the schema URN prefix. */
const KNOWN = ['displayName', 'externalId', 'members'] as const;
type Known = (typeof KNOWN)[number];
/** Written by the server; a client sending them back (as Okta and Entra do) is not an error. */
const IGNORED = new Set(['schemas', 'id', 'meta']);

/** The attribute a key names, or undefined for read-only and unknown ones (ignored on writes). */
export function groupAttributeOf(key: string): Known | undefined {
  const lower = key.toLowerCase();
  const prefix = `${CORE_GROUP_SCHEMA.toLowerCase()}:`;
  const name = lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
  return KNOWN.find((known) => known.toLowerCase() === name);
}

/**
 * A body's attributes, with those nested under the core schema URN (`{"urn:...:core:2.0:Group": {"displayName":
 * ...}}`, as some clients write them; RFC 7643 section 3 qualifies attribute names by their schema) lifted up.
 */
export function coreEntries(body: ScimObject): ScimObject {
  const entries = Object.entries(body).flatMap(([key, value]) =>
    key.toLowerCase() === CORE_GROUP_SCHEMA.toLowerCase() && isObject(value) ? Object.entries(value) : [[key, value]],
  );
  // fromEntries defines own properties: a "__proto__" key stays a key, never a prototype.
  return Object.fromEntries(entries);
}

/** The keys a write ignores: not a Group attribute the client may set (logged by the route). */
export function ignoredKeys(body: ScimObject): string[] {
  return Object.keys(coreEntries(body)).filter(
    (key) => groupAttributeOf(key) === undefined && !IGNORED.has(key.toLowerCase()),
  );
}

/** A POST or PUT body as a domain input. `schemas`, when given, must name the Group schema. */
export function toGroupInput(body: ScimObject): GroupInput {
  assertGroupSchemas(body);
  const input: GroupInput = { displayName: undefined, members: [] };
  for (const [key, value] of Object.entries(coreEntries(body))) {
    switch (groupAttributeOf(key)) {
      case 'displayName':
        input.displayName = value;
        break;
      case 'externalId':
        input.externalId = value;
        break;
      case 'members':
        input.members = toMemberInputs(value);
        break;
    }
  }
  return input;
}

function assertGroupSchemas(body: ScimObject): void {
  const key = Object.keys(body).find((name) => name.toLowerCase() === 'schemas');
  if (key === undefined) return;
  const schemas = body[key];
  const valid =
    Array.isArray(schemas) &&
    schemas.every((schema) => typeof schema === 'string') &&
    schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === CORE_GROUP_SCHEMA.toLowerCase());
  if (!valid) throw new AppError('INVALID_SYNTAX', `'schemas' must be an array that contains ${CORE_GROUP_SCHEMA}`);
}

/** `members` as clients send it: an array of {value, type?, $ref?, display?}, or one such object; null: none. */
export function toMemberInputs(value: unknown): MemberInput[] {
  if (value === null || value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map(toMemberInput);
}

function toMemberInput(item: unknown): MemberInput {
  if (!isObject(item)) throw new AppError('INVALID_VALUE', "Each of 'members' must be an object with a 'value'");
  const read = (name: string) => item[Object.keys(item).find((key) => key.toLowerCase() === name) ?? name];
  const value = read('value') ?? idFromRef(read('$ref'));
  if (typeof value !== 'string' || value === '') {
    throw new AppError('INVALID_VALUE', "Each of 'members' needs a 'value': the id of a user or group");
  }
  return { id: value, kind: memberKindOf(read('type')) };
}

/** `$ref` alone identifies a member too: its last path segment is the id. */
function idFromRef(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  const match = /\/(?:Users|Groups)\/([^/?#]+)\/?$/i.exec(ref);
  return match?.[1];
}

function memberKindOf(type: unknown): MemberKind | undefined {
  if (type === undefined || type === null) return undefined;
  if (typeof type === 'string' && type.toLowerCase() === 'user') return 'User';
  if (typeof type === 'string' && type.toLowerCase() === 'group') return 'Group';
  throw new AppError('INVALID_VALUE', "A member's 'type' must be 'User' or 'Group'");
}
