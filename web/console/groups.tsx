import { useEffect, useState } from 'preact/hooks';
import { api } from '../shared/api';
import { messageOf } from '../shared/mobile-numbers';

interface Group {
  id: string;
  displayName: string;
  members?: { value: string }[];
}

/** Shown only when the server answers /scim2/Groups (RFC 7643 section 4.2): names and member counts. */
export function GroupList() {
  const [groups, setGroups] = useState<Group[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api<{ Resources?: Group[] }>('/scim2/Groups?count=100')
      .then((response) => setGroups(response.body?.Resources ?? []))
      .catch((failure: unknown) => setError(messageOf(failure)));
  }, []);
  return (
    <section class="card">
      <h1>Groups</h1>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table aria-label="Groups">
        <thead>
          <tr>
            <th>Name</th>
            <th>Members</th>
          </tr>
        </thead>
        <tbody>
          {groups?.map((group) => (
            <tr key={group.id}>
              <td>{group.displayName}</td>
              <td>{group.members?.length ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
