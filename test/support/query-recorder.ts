import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import type { TestDatabase } from './test-database.js';

/**
 * Records every statement the app sends (as Kysely operation trees), so a test can assert what a request
 * did NOT read: e.g. that adding one member never selects the member list.
 */
export class QueryRecorder implements KyselyPlugin {
  readonly nodes: RootOperationNode[] = [];

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.nodes.push(args.node);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }

  clear(): void {
    this.nodes.length = 0;
  }

  /** Statements that read rows of `table` (a SELECT naming it, or raw SQL selecting from or joining it). */
  readsOf(table: string): RootOperationNode[] {
    return this.nodes.filter((node) => {
      const text = JSON.stringify(node);
      if (node.kind === 'SelectQueryNode') return text.includes(`"name":"${table}"`);
      if (node.kind === 'RawNode') return new RegExp(`(from|join)\\s+${table}\\b`, 'i').test(text);
      return false;
    });
  }
}

/** The same database, seen through a recorder. */
export function recorded(database: TestDatabase, recorder: QueryRecorder): TestDatabase {
  return { ...database, handle: { ...database.handle, db: database.handle.db.withPlugin(recorder) } };
}
