/**
 * Names for the parameterised statements this process sends to PostgreSQL, so that each connection parses
 * and plans a statement once and then only binds and executes it. Measured with pgbench on this project's
 * hot statements (a user with its attributes, a user's groups), the prepared form ran 3 to 4 times the
 * transactions per second of the same text sent unprepared: the planning of the aggregating subqueries
 * and of the recursive membership query cost more than running them.
 *
 * The same text always gets the same name in one process, and the set of names is bounded: once `limit`
 * texts have names, later texts run unprepared (each name costs memory on every connection, in the
 * server's backend as well as here). Statements without parameters are never named: they stay on the
 * simple protocol, which also runs several statements in one text (migrations).
 */
export class StatementNames {
  readonly #names = new Map<string, string>();

  constructor(private readonly limit: number) {}

  nameOf(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= this.limit) return known;
    const name = `scim_${this.#names.size + 1}`;
    this.#names.set(text, name);
    return name;
  }
}

/** Each name holds a parsed statement and its plans on every pooled connection. */
export const STATEMENT_NAME_LIMIT = 500;
