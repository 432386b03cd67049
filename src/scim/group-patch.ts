/**
 * PATCH on a Group (RFC 7644 section 3.5.2) as domain commands, in every form provisioning clients send:
 * Entra ID's `{"op":"Add","path":"members","value":[{"value":"<id>"}]}`, `{"op":"Remove","path":
 * "members[value eq \"<id>\"]"}` and remove with a value list, Okta's pathless replace of displayName (with
 * `id` echoed back), and op names in any case. Adding or removing named members is a command on those
 * members alone, so the member list of a big group is never read.
 */
import { AppError } from '../errors/app-error.js';
import type { GroupChange, Member } from '../groups/group.js';
import { isObject } from '../shared/values.js';
import {
  type ComparisonValue,
  type FilterExpression,
  invalidFilter,
  parsePatchPath,
  quoted,
  splitAttributePath,
} from './filter-parser.js';
import { coreEntries, groupAttributeOf, ignoredKeys, toMemberInputs } from './group-input.js';
import { CORE_GROUP_SCHEMA } from './group-schema.js';
import { shorten } from './user-values.js';

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

type OpKind = 'add' | 'replace' | 'remove';

function opKind(op: string): OpKind {
  const lower = op.toLowerCase();
  if (lower === 'add' || lower === 'replace' || lower === 'remove') return lower;
  throw new AppError('INVALID_SYNTAX', `Unsupported PATCH op ${quoted(op)}`);
}

/**
 * The operations, in order, as domain commands; any malformed operation fails the whole request. Attributes the
 * server does not define, in a value or named by a well-formed path, are ignored and their names collected.
 */
export function toGroupChanges(operations: readonly PatchOperation[], ignored: string[] = []): GroupChange[] {
  return operations.flatMap((operation) => {
    const kind = opKind(operation.op);
    if (operation.path === undefined) return withoutPath(kind, operation.value, ignored);
    return withPath(kind, operation.path, operation.value, ignored);
  });
}

function withoutPath(kind: OpKind, value: unknown, ignored: string[]): GroupChange[] {
  if (kind === 'remove') throw new AppError('NO_TARGET', 'A remove operation needs a path');
  if (!isObject(value)) throw new AppError('INVALID_VALUE', 'Without a path the value must be an object');
  ignored.push(...ignoredKeys(value));
  return Object.entries(coreEntries(value)).flatMap(([key, item]) => {
    const attribute = groupAttributeOf(key);
    // id, schemas, meta and unknown attributes are ignored, as on POST and PUT (Okta echoes `id` back).
    return attribute === undefined ? [] : attributeChanges(kind, attribute, item);
  });
}

function attributeChanges(kind: OpKind, attribute: 'displayName' | 'externalId' | 'members', value: unknown) {
  if (kind !== 'remove' && value === undefined)
    throw new AppError('INVALID_VALUE', `A ${kind} operation needs a value`);
  switch (attribute) {
    case 'displayName':
      if (kind === 'remove') throw new AppError('INVALID_VALUE', "Attribute 'displayName' is required");
      return [{ kind: 'setDisplayName', displayName: value } as const];
    case 'externalId':
      return [{ kind: 'setExternalId', externalId: kind === 'remove' ? null : value } as const];
    case 'members':
      return memberChanges(kind, value);
  }
}

function memberChanges(kind: OpKind, value: unknown): GroupChange[] {
  switch (kind) {
    case 'add':
      return [{ kind: 'addMembers', members: toMemberInputs(value) }];
    case 'replace':
      return [{ kind: 'replaceMembers', members: toMemberInputs(value) }];
    case 'remove':
      // Entra ID removes with a value list; without one, every member goes.
      if (value === undefined || value === null) return [{ kind: 'removeAllMembers' }];
      return [{ kind: 'removeMembers', ids: toMemberInputs(value).map((member) => member.id) }];
  }
}

const MEMBER_SUB_ATTRIBUTES = ['value', '$ref', 'display', 'type'];

function withPath(kind: OpKind, path: string, value: unknown, ignored: string[]): GroupChange[] {
  const parsed = parsePatchPath(path.trim());
  const parts = splitPath(path, parsed.path);
  const subAttribute = parts?.subAttribute ?? parsed.subAttribute;
  const undefinedSub =
    parts?.attribute === 'members' &&
    subAttribute !== undefined &&
    !MEMBER_SUB_ATTRIBUTES.includes(subAttribute.toLowerCase());
  if (parts === undefined || undefinedSub) {
    ignored.push(shorten(path.trim()));
    return [];
  }
  if (subAttribute !== undefined) {
    if (parts.attribute === 'members') {
      throw new AppError('MUTABILITY', "Sub-attributes of 'members' cannot be changed; add or remove the member");
    }
    throw new AppError('INVALID_PATH', `Invalid path ${quoted(path)}: '${parts.attribute}' has no sub-attributes`);
  }
  if (parsed.filter === undefined) return attributeChanges(kind, parts.attribute, value);
  if (parts.attribute !== 'members') {
    throw new AppError('INVALID_PATH', `Invalid path ${quoted(path)}: '${parts.attribute}' is not multi-valued`);
  }
  return filteredMemberChanges(kind, parsed.filter, value);
}

/** The Group attribute a well-formed path names, or undefined when the server does not define it. */
function splitPath(original: string, path: string) {
  const parts = splitPathOrInvalid(original, path);
  if (parts.urn !== undefined && parts.urn.toLowerCase() !== CORE_GROUP_SCHEMA.toLowerCase()) return undefined;
  const attribute = groupAttributeOf(parts.attribute);
  if (attribute === undefined) {
    if (['id', 'meta'].includes(parts.attribute.toLowerCase())) {
      throw new AppError('MUTABILITY', `Attribute '${parts.attribute}' is read-only`);
    }
    return undefined;
  }
  return { attribute, subAttribute: parts.subAttribute };
}

function splitPathOrInvalid(original: string, path: string) {
  try {
    return splitAttributePath(path);
  } catch {
    throw new AppError('INVALID_PATH', `Invalid path ${quoted(original)}`);
  }
}

/** `members[value eq "a" or value eq "b"]` names members; any other filter is tested on each member. */
function filteredMemberChanges(kind: OpKind, filter: FilterExpression, value: unknown): GroupChange[] {
  if (kind === 'add') throw new AppError('INVALID_PATH', "Use replace to change filtered 'members' values");
  const named = namedIds(filter);
  const removal: GroupChange =
    named === undefined
      ? { kind: 'removeMembersWhere', matches: memberMatcher(filter) }
      : { kind: 'removeMembers', ids: named };
  if (kind === 'remove') return [removal];
  if (value === undefined || value === null) throw new AppError('INVALID_VALUE', 'A replace operation needs a value');
  return [removal, { kind: 'addMembers', members: toMemberInputs(value) }];
}

function namedIds(filter: FilterExpression): string[] | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && isValuePath(filter.path) && typeof filter.value === 'string') {
    return [filter.value];
  }
  if (filter.kind !== 'or') return undefined;
  const parts = filter.filters.map(namedIds);
  return parts.every((part) => part !== undefined) ? parts.flat() : undefined;
}

function isValuePath(path: string): boolean {
  return path.toLowerCase() === 'value';
}

const MEMBER_FIELDS = {
  value: { read: (member: Member) => member.id, caseExact: true },
  type: { read: (member: Member) => member.kind, caseExact: false },
  display: { read: (member: Member) => member.display, caseExact: false },
} as const;

/** Checks the filter once (unknown sub-attributes are an error before anything changes), then tests members. */
function memberMatcher(filter: FilterExpression): (member: Member) => boolean {
  switch (filter.kind) {
    case 'and':
    case 'or': {
      const parts = filter.filters.map(memberMatcher);
      return filter.kind === 'and'
        ? (member) => parts.every((part) => part(member))
        : (member) => parts.some((part) => part(member));
    }
    case 'not': {
      const inner = memberMatcher(filter.filter);
      return (member) => !inner(member);
    }
    case 'valuePath':
      throw invalidFilter('Value filters cannot be nested');
    case 'present': {
      const field = memberField(filter.path);
      return (member) => field.read(member) !== '';
    }
    case 'compare': {
      const field = memberField(filter.path);
      return (member) => compareText(filter.op, field.read(member), filter.value, field.caseExact);
    }
  }
}

function memberField(path: string) {
  const name = Object.keys(MEMBER_FIELDS).find((key) => key === path.toLowerCase());
  if (name === undefined) throw invalidFilter(`Unknown attribute ${quoted(`members.${path}`)} in filter`);
  return MEMBER_FIELDS[name as keyof typeof MEMBER_FIELDS];
}

function compareText(op: string, actual: string, expected: ComparisonValue, caseExact: boolean): boolean {
  if (expected === null) return op === 'ne';
  if (typeof expected !== 'string') throw invalidFilter(`Members are compared with strings, not ${String(expected)}`);
  const left = caseExact ? actual : actual.toLowerCase();
  const right = caseExact ? expected : expected.toLowerCase();
  switch (op) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'co':
      return left.includes(right);
    case 'sw':
      return left.startsWith(right);
    case 'ew':
      return left.endsWith(right);
    case 'gt':
      return left > right;
    case 'ge':
      return left >= right;
    case 'lt':
      return left < right;
    default:
      return left <= right;
  }
}
