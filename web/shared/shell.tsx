import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { whenUnauthorized } from './api';
import { completeSignIn, type Session, type SignInConfig, SignInError, signOut, startSignIn } from './auth';

type State =
  | { kind: 'starting' }
  | { kind: 'signed-in'; session: Session }
  | { kind: 'signed-out'; message: string }
  | { kind: 'failed'; message: string };

/** Signs in on load (authorization code + PKCE), renders the app, and offers "Sign out". */
export function Shell(props: {
  title: string;
  config: SignInConfig;
  nav?: () => ComponentChildren;
  children: (session: Session) => ComponentChildren;
}) {
  const [state, setState] = useState<State>({ kind: 'starting' });

  useEffect(() => {
    whenUnauthorized(() => setState({ kind: 'signed-out', message: 'Your session has ended. Sign in again.' }));
    completeSignIn(props.config)
      .then((session) => {
        if (session === undefined) return startSignIn(props.config);
        setState({ kind: 'signed-in', session });
        return undefined;
      })
      .catch((error: unknown) =>
        setState({
          kind: 'failed',
          message: error instanceof SignInError ? error.message : 'Sign-in failed. Sign in again.',
        }),
      );
  }, []);

  const signInAgain = () =>
    void startSignIn(props.config).catch((error: unknown) => setState({ kind: 'failed', message: String(error) }));

  return (
    <div class="app">
      <header class="top">
        <span class="brand">{props.title}</span>
        {state.kind === 'signed-in' && props.nav?.()}
        {state.kind === 'signed-in' && (
          <button
            type="button"
            class="secondary"
            onClick={() =>
              void signOut(props.config).finally(() => setState({ kind: 'signed-out', message: 'You are signed out.' }))
            }
          >
            Sign out
          </button>
        )}
      </header>
      <main class="content">
        {state.kind === 'starting' && <p>Signing in…</p>}
        {state.kind === 'signed-in' && props.children(state.session)}
        {(state.kind === 'signed-out' || state.kind === 'failed') && (
          <section class="card">
            <p role={state.kind === 'failed' ? 'alert' : 'status'}>{state.message}</p>
            <button type="button" onClick={signInAgain}>
              Sign in
            </button>
          </section>
        )}
      </main>
    </div>
  );
}
