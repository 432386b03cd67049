import { it } from 'vitest';
import { createUser, scimRequest, startTestApp } from '../support/test-app.js';

it('timing', async () => {
  let s = Date.now();
  const t = await startTestApp();
  console.log('start', Date.now() - s);
  s = Date.now();
  for (let i = 0; i < 10; i++) await createUser(t, `u${i}`);
  console.log('10 createUser', Date.now() - s);
  s = Date.now();
  for (let i = 0; i < 10; i++) await createUser(t, `v${i}`, { password: undefined });
  console.log('10 createUser nopw', Date.now() - s);
  s = Date.now();
  for (let i = 0; i < 10; i++) await scimRequest(t, { method: 'GET', url: '/scim2/Me' });
  console.log('10 GET /Me', Date.now() - s);
  s = Date.now();
  for (let i = 0; i < 10; i++) await scimRequest(t, { method: 'GET', url: '/scim2/Users?count=5' });
  console.log('10 list', Date.now() - s);
  await t.close();
});
