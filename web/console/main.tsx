import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '../shared/style.css';
import { api } from '../shared/api';
import type { Session } from '../shared/auth';
import { Shell } from '../shared/shell';
import { GroupList } from './groups';
import { href, useRoute } from './route';
import { SmsProviderPage } from './sms-provider';
import { AuditPage, DeliveriesPage, InboxPage } from './tables';
import { UserList, UserPage } from './users';

const CONFIG = {
  clientId: 'console',
  path: '/console/',
  scope:
    'internal_user_mgt_list internal_user_mgt_view internal_user_mgt_update internal_config_mgt_view internal_config_mgt_add internal_config_mgt_update internal_config_mgt_delete',
};

/** Optional parts of the server: shown only when their API answers (Groups, the development SMS inbox). */
function useAvailable(path: string): boolean {
  const [available, setAvailable] = useState(false);
  useEffect(() => {
    api(path)
      .then(() => setAvailable(true))
      .catch(() => setAvailable(false));
  }, [path]);
  return available;
}

function Nav() {
  const route = useRoute();
  const groups = useAvailable('/scim2/Groups?count=0');
  const inbox = useAvailable('/api/server/v1/sms-inbox?count=0');
  const current = route[0] ?? 'users';
  const items: [string, string][] = [
    ['users', 'Users'],
    ...(groups ? ([['groups', 'Groups']] as [string, string][]) : []),
    ['sms-provider', 'SMS provider'],
    ['sms-deliveries', 'SMS deliveries'],
    ['audit', 'Audit'],
    ...(inbox ? ([['sms-inbox', 'SMS inbox']] as [string, string][]) : []),
  ];
  return (
    <nav aria-label="Console">
      {items.map(([id, label]) => (
        <a key={id} href={href(id)} aria-current={current === id ? 'page' : undefined}>
          {label}
        </a>
      ))}
    </nav>
  );
}

function Page(props: { route: string[] }) {
  const [section, id] = props.route;
  switch (section ?? 'users') {
    case 'users':
      return id === undefined ? <UserList /> : <UserPage id={id} />;
    case 'sms-provider':
      return <SmsProviderPage />;
    case 'sms-deliveries':
      return <DeliveriesPage />;
    case 'audit':
      return <AuditPage />;
    case 'sms-inbox':
      return <InboxPage />;
    case 'groups':
      return <GroupList />;
    default:
      return <p>Nothing here. Pick a page above.</p>;
  }
}

function isAdministrator(session: Session): boolean {
  return session.scopes.includes('internal_user_mgt_list');
}

function Console() {
  const route = useRoute();
  return (
    <Shell title="Console" config={CONFIG} nav={() => <Nav />}>
      {(session) =>
        isAdministrator(session) ? (
          <Page route={route} />
        ) : (
          <section class="card">
            <p role="alert">This account is not an administrator. Sign out, then sign in as an administrator.</p>
          </section>
        )
      }
    </Shell>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<Console />, root);
