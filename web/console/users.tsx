import { useEffect, useState } from 'preact/hooks';
import { api } from '../shared/api';
import { MobileNumbers, messageOf } from '../shared/mobile-numbers';
import { displayName, mobileOf, type ScimUser } from '../shared/scim-user';
import { Pager } from './pager';
import { href } from './route';

const PAGE_SIZE = 10;

interface ListResponse {
  totalResults: number;
  Resources?: ScimUser[];
}

function filterFor(search: string): string | undefined {
  const text = search.trim().replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  if (text === '') return undefined;
  return `userName co "${text}" or name.givenName co "${text}" or name.familyName co "${text}"`;
}

export function UserList() {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [startIndex, setStartIndex] = useState(1);
  const [page, setPage] = useState<ListResponse | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const query = new URLSearchParams({ startIndex: String(startIndex), count: String(PAGE_SIZE) });
    const filter = filterFor(applied);
    if (filter !== undefined) query.set('filter', filter);
    api<ListResponse>(`/scim2/Users?${query}`)
      .then((response) => {
        setPage(response.body);
        setError(undefined);
      })
      .catch((failure: unknown) => setError(messageOf(failure)));
  }, [applied, startIndex]);

  return (
    <section class="card">
      <h1>Users</h1>
      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          setStartIndex(1);
          setApplied(search);
        }}
      >
        <label for="user-search">Search users</label>
        <input id="user-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page !== undefined && (
        <>
          <table>
            <thead>
              <tr>
                <th>Username</th>
                <th>Name</th>
                <th>Mobile</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {(page.Resources ?? []).map((user) => {
                const mobile = mobileOf(user);
                return (
                  <tr key={user.id}>
                    <td>
                      <a href={href('users', user.id)}>{user.userName}</a>
                    </td>
                    <td>{displayName(user)}</td>
                    <td class="mono">{mobile.primary ?? '—'}</td>
                    <td>
                      {user.active === false ? 'Disabled' : 'Active'}
                      {mobile.pending !== undefined && <span class="badge info"> Pending {mobile.pending}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager startIndex={startIndex} count={PAGE_SIZE} total={page.totalResults} onPage={setStartIndex} />
        </>
      )}
    </section>
  );
}

export function UserPage(props: { id: string }) {
  const [user, setUser] = useState<ScimUser | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api<ScimUser>(`/scim2/Users/${encodeURIComponent(props.id)}`)
      .then((response) => setUser(response.body))
      .catch((failure: unknown) => setError(messageOf(failure)));
  }, [props.id]);
  if (error !== undefined)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (user === undefined) return <p>Loading…</p>;
  return (
    <>
      <p>
        <a href={href('users')}>← Users</a>
      </p>
      <section class="card" aria-labelledby="user-heading">
        <h1 id="user-heading">{user.userName}</h1>
        <dl class="profile">
          <dt>Name</dt>
          <dd>{displayName(user)}</dd>
          <dt>Email</dt>
          <dd>{user.emails?.map((email) => email.value).join(', ') || '—'}</dd>
          <dt>Status</dt>
          <dd>{user.active === false ? 'Disabled' : 'Active'}</dd>
          <dt>User ID</dt>
          <dd class="mono">{user.id}</dd>
        </dl>
      </section>
      <MobileNumbers target={{ kind: 'admin', userId: user.id, userName: user.userName }} onChange={setUser} />
    </>
  );
}
