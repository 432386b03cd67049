/** The server's own sign-in page for the authorization code grant: plain HTML, no script, strict CSP. */

export interface SignInPage {
  clientName: string;
  /** The authorization request, carried through the form as hidden fields. */
  hidden: Record<string, string>;
  userName?: string;
  error?: string;
}

export const SIGN_IN_CSS_PATH = '/oauth2/sign-in.css';

export const SIGN_IN_CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f8;color:#1d2430}
main{max-width:24rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{margin:0 0 .25rem;font-size:1.5rem}
p.client{margin:0 0 1.5rem;color:#5b6575}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{width:100%;padding:.6rem .7rem;border:1px solid #b9c1cc;border-radius:8px;font:inherit}
input:focus{outline:2px solid #2f6fde;outline-offset:1px}
button{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:8px;background:#2f6fde;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.error{margin:0 0 1rem;padding:.6rem .8rem;border-radius:8px;background:#fdecec;color:#8a1c1c}
`;

export function renderSignInPage(page: SignInPage): string {
  const hidden = Object.entries(page.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  const error = page.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(page.error)}</p>`;
  return document(
    'Sign in',
    `<h1>Sign in</h1>
    <p class="client">to ${escapeHtml(page.clientName)}</p>
    ${error}
    <form method="post" action="/oauth2/authorize">
      ${hidden}
      <label for="username">Username</label>
      <input id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(page.userName ?? '')}">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
    </form>`,
  );
}

/** Requests that cannot be sent back to the client (unknown client, unregistered redirect URI) end here. */
export function renderErrorPage(title: string, detail: string): string {
  return document(title, `<h1>${escapeHtml(title)}</h1>\n    <p class="error" role="alert">${escapeHtml(detail)}</p>`);
}

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <link rel="stylesheet" href="${SIGN_IN_CSS_PATH}">
</head>
<body>
  <main>
    ${body}
  </main>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
