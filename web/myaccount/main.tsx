import { render } from 'preact';
import { useState } from 'preact/hooks';
import '../shared/style.css';
import { MobileNumbers } from '../shared/mobile-numbers';
import { displayName, type ScimUser } from '../shared/scim-user';
import { Shell } from '../shared/shell';

const CONFIG = { clientId: 'myaccount', path: '/myaccount/', scope: 'internal_login' };

function MyAccount() {
  const [user, setUser] = useState<ScimUser | undefined>();
  return (
    <>
      <h1>My Account</h1>
      {user !== undefined && (
        <section class="card" aria-labelledby="profile-heading">
          <h2 id="profile-heading">Profile</h2>
          <dl class="profile">
            <dt>Username</dt>
            <dd>{user.userName}</dd>
            <dt>Name</dt>
            <dd>{displayName(user)}</dd>
            <dt>Email</dt>
            <dd>{user.emails?.map((email) => email.value).join(', ') || '—'}</dd>
          </dl>
        </section>
      )}
      <MobileNumbers target={{ kind: 'self' }} onChange={setUser} />
    </>
  );
}

const root = document.getElementById('app');
if (root !== null)
  render(
    <Shell title="My Account" config={CONFIG}>
      {() => <MyAccount />}
    </Shell>,
    root,
  );
