/**
 * SCIM filters on Groups (RFC 7644 section 3.4.2.2) as SQL on `groups`, from the shared parser's tree.
 * The same semantics as for Users: `ne` is `not eq` (a group without the attribute matches), `eq null`
 * means absent, strings compare case-insensitively except the case-exact `id`, `externalId` and
 * `members.value`, and string ordering uses the "C" collation. `members[...]` and `members.value` test
 * the membership rows in one EXISTS, through the (group_id, member) indexes.
 */
import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { AppError } from '../errors/app-error.js';
import type { GroupCondition, GroupSortKey } from '../groups/group-list.js';
import { isUuid } from '../shared/values.js';
import {
  type AttributeExpression,
  type CompareOperator,
  type FilterExpression,
  invalidFilter,
  parseFilter,
  quoted,
  splitAttributePath,
} from './filter-parser.js';
import { CORE_GROUP_SCHEMA } from './group-schema.js';

type Sql = RawBuilder<SqlBool>;

interface TextField {
  kind: 'text';
  value: RawBuilder<unknown>;
  caseExact: boolean;
  /** Always present (no `pr` test needed). */
  required: boolean;
  /** `eq` with a UUID through an index rather than on text. */
  equalsUuid?: (id: string) => Sql;
}
interface TimeField {
  kind: 'time';
  value: RawBuilder<unknown>;
}
type Field = TextField | TimeField;

const GROUP_FIELDS: Record<string, Field> = {
  id: {
    kind: 'text',
    value: sql`cast(groups.id as text)`,
    caseExact: false,
    required: true,
    equalsUuid: (id) => sql<SqlBool>`groups.id = cast(${id} as uuid)`,
  },
  displayname: { kind: 'text', value: sql`groups.display_name`, caseExact: false, required: true },
  externalid: { kind: 'text', value: sql`groups.external_id`, caseExact: true, required: false },
  'meta.created': { kind: 'time', value: sql`groups.created_at` },
  'meta.lastmodified': { kind: 'time', value: sql`groups.updated_at` },
};

/** A membership row `m`: the member's id and type. */
const MEMBER_FIELDS: Record<string, Field> = {
  value: {
    kind: 'text',
    value: sql`cast(coalesce(m.member_user_id, m.member_group_id) as text)`,
    caseExact: false,
    required: true,
    equalsUuid: (id) =>
      sql<SqlBool>`(m.member_user_id = cast(${id} as uuid) or m.member_group_id = cast(${id} as uuid))`,
  },
  type: {
    kind: 'text',
    value: sql`(case when m.member_user_id is not null then 'User' else 'Group' end)`,
    caseExact: false,
    required: true,
  },
};

/** Parses and translates; every error is INVALID_FILTER, raised before any SQL runs. */
export function groupFilterToCondition(filter: string): GroupCondition {
  const condition = translate(parseFilter(filter));
  return () => condition;
}

function translate(expression: FilterExpression): Sql {
  switch (expression.kind) {
    case 'and':
    case 'or':
      return sql<SqlBool>`(${sql.join(expression.filters.map(translate), sql.raw(` ${expression.kind} `))})`;
    case 'not':
      return sql<SqlBool>`not (${translate(expression.filter)})`;
    case 'valuePath': {
      if (attributeName(expression.path) !== 'members') {
        throw invalidFilter(`Attribute ${quoted(expression.path)} does not take a value filter`);
      }
      return membershipExists(translateMember(expression.filter));
    }
    default:
      return translateAttribute(expression);
  }
}

function translateAttribute(expression: AttributeExpression): Sql {
  const name = attributeName(expression.path);
  if (name === 'members' || name.startsWith('members.')) {
    const sub = name === 'members' ? 'value' : name.slice('members.'.length);
    const field = MEMBER_FIELDS[sub];
    if (field === undefined) throw unknownAttribute(expression.path);
    // "some member has value op x"; `ne` and `eq null` negate the whole test.
    if (expression.kind === 'present') return membershipExists(sql<SqlBool>`true`);
    if (expression.value === null)
      return nullTest(expression.op, expression.path, membershipExists(sql<SqlBool>`true`));
    if (expression.op === 'ne') {
      return sql<SqlBool>`not (${membershipExists(compare(field, 'eq', expression.value, expression.path))})`;
    }
    return membershipExists(compare(field, expression.op, expression.value, expression.path));
  }
  const field = GROUP_FIELDS[name];
  if (field === undefined) throw unknownAttribute(expression.path);
  return fieldTest(field, expression);
}

function translateMember(expression: FilterExpression): Sql {
  switch (expression.kind) {
    case 'and':
    case 'or':
      return sql<SqlBool>`(${sql.join(expression.filters.map(translateMember), sql.raw(` ${expression.kind} `))})`;
    case 'not':
      return sql<SqlBool>`not (${translateMember(expression.filter)})`;
    case 'valuePath':
      throw invalidFilter(`Value filters cannot be nested (${quoted(expression.path)})`);
    default: {
      const field = MEMBER_FIELDS[expression.path.toLowerCase()];
      if (field === undefined) throw unknownAttribute(`members.${expression.path}`);
      return fieldTest(field, expression);
    }
  }
}

function fieldTest(field: Field, expression: AttributeExpression): Sql {
  const present =
    field.kind === 'text' && !field.required ? sql<SqlBool>`${field.value} is not null` : sql<SqlBool>`true`;
  if (expression.kind === 'present') return present;
  if (expression.value === null) return nullTest(expression.op, expression.path, present);
  if (expression.op === 'ne') {
    return sql<SqlBool>`not coalesce(${compare(field, 'eq', expression.value, expression.path)}, false)`;
  }
  return sql<SqlBool>`coalesce(${compare(field, expression.op, expression.value, expression.path)}, false)`;
}

function nullTest(op: CompareOperator, path: string, present: Sql): Sql {
  if (op === 'eq') return sql<SqlBool>`not (${present})`;
  if (op === 'ne') return present;
  throw invalidFilter(`Operator '${op}' cannot compare ${quoted(path)} with null`);
}

function compare(
  field: Field,
  op: Exclude<CompareOperator, 'ne'>,
  value: string | number | boolean,
  path: string,
): Sql {
  if (typeof value !== 'string') throw invalidFilter(`Attribute ${quoted(path)} must be compared with a string`);
  if (field.kind === 'time') return compareTime(field, op, value, path);
  if (op === 'eq' && field.equalsUuid !== undefined && isUuid(value)) return field.equalsUuid(value);
  const left = field.caseExact ? sql`${field.value}` : sql`lower(${field.value})`;
  const literal = op === 'co' || op === 'sw' || op === 'ew' ? likePattern(op, value) : value;
  const right = field.caseExact ? sql`cast(${literal} as text)` : sql`lower(cast(${literal} as text))`;
  switch (op) {
    case 'eq':
      return sql<SqlBool>`${left} = ${right}`;
    case 'co':
    case 'sw':
    case 'ew':
      return sql<SqlBool>`${left} like ${right}`;
    default:
      return sql<SqlBool>`${left} collate "C" ${sql.raw(ORDER[op])} ${right}`;
  }
}

const ORDER = { gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

function compareTime(field: TimeField, op: Exclude<CompareOperator, 'ne'>, value: string, path: string): Sql {
  if (op === 'co' || op === 'sw' || op === 'ew') {
    throw invalidFilter(`Operator '${op}' is not supported for dateTime attribute ${quoted(path)}`);
  }
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) {
    throw invalidFilter(`Invalid dateTime ${quoted(value)} for ${quoted(path)}`);
  }
  const operator = op === 'eq' ? '=' : ORDER[op];
  return sql<SqlBool>`${field.value} ${sql.raw(operator)} cast(${time.toISOString()} as timestamptz)`;
}

function membershipExists(predicate: Sql): Sql {
  return sql<SqlBool>`exists (select 1 from group_members m where m.group_id = groups.id and ${predicate})`;
}

/** `displayName`, `members.value` or `urn:ietf:params:scim:schemas:core:2.0:Group:displayName`, lower-cased. */
function attributeName(path: string): string {
  const parts = splitAttributePath(path);
  if (parts.urn !== undefined && parts.urn.toLowerCase() !== CORE_GROUP_SCHEMA.toLowerCase()) {
    throw unknownAttribute(path);
  }
  const name = parts.subAttribute === undefined ? parts.attribute : `${parts.attribute}.${parts.subAttribute}`;
  return name.toLowerCase();
}

function unknownAttribute(path: string) {
  return invalidFilter(`Unknown attribute ${quoted(path)} in filter`);
}

function likePattern(op: 'co' | 'sw' | 'ew', value: string): string {
  const escaped = value.replace(/[\\%_]/g, (char) => `\\${char}`);
  if (op === 'sw') return `${escaped}%`;
  if (op === 'ew') return `%${escaped}`;
  return `%${escaped}%`;
}

const SORT_KEYS: Record<string, GroupSortKey> = {
  id: 'id',
  displayname: 'displayName',
  externalid: 'externalId',
  'meta.created': 'created',
  'meta.lastmodified': 'lastModified',
};

/** `sortBy` for Groups (RFC 7644 section 3.4.2.3); an attribute that cannot be sorted is invalidValue. */
export function groupSortOf(
  sortBy: string | undefined,
  sortOrder: string | undefined,
): { key: GroupSortKey; descending: boolean } | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined;
  let key: GroupSortKey | undefined;
  try {
    key = SORT_KEYS[attributeName(sortBy.trim())];
  } catch {
    key = undefined;
  }
  if (key === undefined) throw new AppError('INVALID_VALUE', `Groups cannot be sorted by ${quoted(sortBy)}`);
  const order = sortOrder?.toLowerCase() ?? 'ascending';
  if (order !== 'ascending' && order !== 'descending') {
    throw new AppError('INVALID_VALUE', "'sortOrder' must be 'ascending' or 'descending'");
  }
  return { key, descending: order === 'descending' };
}
