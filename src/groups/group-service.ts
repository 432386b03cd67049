import { randomUUID } from 'node:crypto';
import type { Db, Trx } from '../db/executor.js';
import { withStatementTimeout } from '../db/statement-timeout.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { isUuid } from '../shared/values.js';
import { matchesEtag } from '../users/user.js';
import { type Group, type GroupChange, groupFromRow, type Member, type MemberInput, type MemberKind } from './group.js';
import { type GroupListQuery, listGroupRows } from './group-list.js';
import {
  addMemberships,
  ancestorsOf,
  classifyIds,
  deleteGroupById,
  findGroupByDisplayName,
  findGroupById,
  insertGroup,
  loadMembers,
  lockAndBumpGroup,
  lockGroupNesting,
  removeAllMemberships,
  removeMemberships,
  setGroupNames,
} from './group-repository.js';

export interface GroupServiceDeps {
  db: Db;
  clock: Clock;
  /** Longest a SCIM listing query may run (SCIM_STATEMENT_TIMEOUT_MS), as for users. */
  statementTimeoutMs: number;
}

/** What a new group is made of, or what a PUT replaces a group with. */
export interface GroupInput {
  displayName: unknown;
  externalId?: unknown;
  members: MemberInput[];
}

export type GroupService = ReturnType<typeof createGroupService>;

const MAX_DISPLAY_NAME = 255;

export function createGroupService(deps: GroupServiceDeps) {
  const { db, clock } = deps;

  async function getGroup(id: string): Promise<Group> {
    const row = isUuid(id) ? await findGroupById(db, id) : undefined;
    if (row === undefined) throw notFound(id);
    return groupFromRow(row);
  }

  async function membersOf(groupIds: readonly string[]): Promise<Map<string, Member[]>> {
    return loadMembers(db, groupIds);
  }

  async function listGroups(query: GroupListQuery): Promise<{ totalResults: number; groups: Group[] }> {
    const { totalResults, rows } = await withStatementTimeout(db, deps.statementTimeoutMs, (trx) =>
      listGroupRows(trx, query),
    );
    return { totalResults, groups: rows.map(groupFromRow) };
  }

  async function createGroup(input: GroupInput): Promise<Group> {
    const displayName = checkedDisplayName(input.displayName);
    const externalId = checkedExternalId(input.externalId);
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      await assertDisplayNameFree(trx, displayName, undefined);
      const row = await insertGroup(trx, {
        id: randomUUID(),
        display_name: displayName,
        external_id: externalId ?? null,
        created_at: now,
        updated_at: now,
      });
      await addMembers(trx, row.id, input.members, now);
      return groupFromRow(row);
    });
  }

  /** PUT: every attribute is replaced; members not listed are removed (RFC 7644 section 3.5.1). */
  async function replaceGroup(id: string, input: GroupInput, ifMatch?: string): Promise<Group> {
    return changeGroup(id, ifMatch, [
      { kind: 'setDisplayName', displayName: input.displayName },
      { kind: 'setExternalId', externalId: input.externalId },
      { kind: 'replaceMembers', members: input.members },
    ]);
  }

  /** PATCH: the changes apply in order, in one transaction; the first failing one undoes all. */
  async function changeGroup(id: string, ifMatch: string | undefined, changes: readonly GroupChange[]): Promise<Group> {
    if (!isUuid(id)) throw notFound(id);
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row = await lockAndBumpGroup(trx, id, now);
      if (row === undefined) throw notFound(id);
      const current = groupFromRow({ ...row, version: row.version - 1 });
      if (ifMatch !== undefined && !matchesEtag(current, ifMatch)) {
        throw new AppError('PRECONDITION_FAILED', 'The resource has changed since the version given in If-Match');
      }
      let displayName = current.displayName;
      let externalId = current.externalId;
      for (const change of changes) {
        switch (change.kind) {
          case 'setDisplayName':
            displayName = checkedDisplayName(change.displayName);
            break;
          case 'setExternalId':
            externalId = checkedExternalId(change.externalId);
            break;
          default:
            await applyMemberChange(trx, id, change, now);
        }
      }
      if (displayName.toLowerCase() !== current.displayName.toLowerCase()) {
        await assertDisplayNameFree(trx, displayName, id);
      }
      if (displayName === current.displayName && externalId === current.externalId) return groupFromRow(row);
      return groupFromRow(await setGroupNames(trx, id, { display_name: displayName, external_id: externalId ?? null }));
    });
  }

  async function applyMemberChange(
    trx: Trx,
    groupId: string,
    change: Exclude<GroupChange, { kind: 'setDisplayName' | 'setExternalId' }>,
    now: Date,
  ): Promise<void> {
    switch (change.kind) {
      case 'addMembers':
        return addMembers(trx, groupId, change.members, now);
      case 'removeMembers':
        return removeMemberships(trx, groupId, change.ids.filter(isUuid));
      case 'removeAllMembers':
        return removeAllMemberships(trx, groupId);
      case 'replaceMembers':
        await removeAllMemberships(trx, groupId);
        return addMembers(trx, groupId, change.members, now);
      case 'removeMembersWhere': {
        const members = (await loadMembers(trx, [groupId])).get(groupId) ?? [];
        return removeMemberships(
          trx,
          groupId,
          members.filter(change.matches).map((member) => member.id),
        );
      }
    }
  }

  /** Checks that every member exists (400 invalidValue otherwise) and that no group would contain itself. */
  async function addMembers(trx: Trx, groupId: string, inputs: readonly MemberInput[], now: Date): Promise<void> {
    if (inputs.length === 0) return;
    const malformed = inputs.find((member) => !isUuid(member.id));
    if (malformed !== undefined) throw unknownMember(malformed.id);
    const ids = [...new Set(inputs.map((member) => member.id.toLowerCase()))];
    const kinds = await classifyIds(trx, ids);
    const members = ids.map((id) => ({ id, kind: kinds.get(id) }));
    const missing = members.find((member) => member.kind === undefined);
    if (missing !== undefined) throw unknownMember(missing.id);
    for (const input of inputs) {
      const actual = kinds.get(input.id.toLowerCase());
      if (input.kind !== undefined && input.kind !== actual) {
        throw new AppError('INVALID_VALUE', `Member '${input.id}' is a ${actual}, not a ${input.kind}`);
      }
    }
    const resolved = members as { id: string; kind: MemberKind }[];
    const groups = resolved.filter((member) => member.kind === 'Group');
    if (groups.length > 0) {
      await lockGroupNesting(trx);
      const ancestors = await ancestorsOf(trx, groupId);
      const cycle = groups.find((member) => ancestors.has(member.id));
      if (cycle !== undefined) {
        throw new AppError('INVALID_VALUE', `Group '${cycle.id}' cannot be a member: it contains this group`);
      }
    }
    await addMemberships(trx, groupId, resolved, now);
  }

  async function deleteGroup(id: string): Promise<void> {
    if (!isUuid(id) || !(await deleteGroupById(db, id))) throw notFound(id);
  }

  return { getGroup, membersOf, listGroups, createGroup, replaceGroup, changeGroup, deleteGroup };
}

function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `Group not found: ${id.slice(0, 64)}`);
}

function unknownMember(id: string): AppError {
  return new AppError('INVALID_VALUE', `No user or group with id '${id.slice(0, 64)}' exists`);
}

function checkedDisplayName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AppError('INVALID_VALUE', "Attribute 'displayName' is required");
  }
  const trimmed = value.trim();
  if (trimmed.length > MAX_DISPLAY_NAME || hasControlCharacter(trimmed)) {
    throw new AppError('INVALID_VALUE', "Attribute 'displayName' is too long or contains control characters");
  }
  return trimmed;
}

function checkedExternalId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > 1024) {
    throw new AppError('INVALID_VALUE', "Attribute 'externalId' must be a string");
  }
  return value;
}

async function assertDisplayNameFree(trx: Trx, displayName: string, exceptId: string | undefined): Promise<void> {
  const existing = await findGroupByDisplayName(trx, displayName);
  if (existing !== undefined && existing.id !== exceptId) {
    throw new AppError('UNIQUENESS', `A group named '${displayName}' already exists`);
  }
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((character) => {
    const code = character.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f;
  });
}
