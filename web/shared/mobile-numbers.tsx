import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api';
import { Messages } from './messages';
import { mobileOf, type ScimUser, setNumberLists, setPrimaryMobile } from './scim-user';

/** Whose numbers these are: the signed-in user (/scim2/Me, /me/ code routes) or a user an administrator manages. */
export type MobileTarget = { kind: 'self' } | { kind: 'admin'; userId: string; userName: string };

const SCENARIOS = ['MOBILE_VERIFICATION_ON_UPDATE', 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE'] as const;
const IDENTITY = '/api/identity/user/v1.0';

interface Hints {
  resendAt: number | undefined;
  attemptsRemaining: number | undefined;
}

function hintsFrom(headers: Headers, previous: Hints): Hints {
  const after = headers.get('x-verification-resend-after');
  const attempts = headers.get('x-verification-attempts-remaining');
  return {
    resendAt: after === null ? previous.resendAt : Date.now() + Number(after) * 1000,
    attemptsRemaining: attempts === null ? previous.attemptsRemaining : Number(attempts),
  };
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** The mobile number(s) of one user, their state, and the verification prompt: shared by My Account and the Console. */
export function MobileNumbers(props: { target: MobileTarget; onChange?: (user: ScimUser) => void }) {
  const { target } = props;
  const userPath = target.kind === 'self' ? '/scim2/Me' : `/scim2/Users/${encodeURIComponent(target.userId)}`;
  const [user, setUser] = useState<ScimUser | undefined>();
  const [hints, setHints] = useState<Hints>({ resendAt: undefined, attemptsRemaining: undefined });
  const [number, setNumber] = useState('');
  const [extra, setExtra] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const mobile = user === undefined ? undefined : mobileOf(user);
  const now = useNow(hints.resendAt !== undefined);
  const wait = hints.resendAt === undefined ? 0 : Math.max(0, Math.ceil((hints.resendAt - now) / 1000));

  function accept(response: { headers: Headers; body: ScimUser | undefined }) {
    setHints((previous) => hintsFrom(response.headers, previous));
    if (response.body !== undefined) {
      setUser(response.body);
      props.onChange?.(response.body);
    }
  }

  async function reload() {
    const response = await api<ScimUser>(userPath);
    accept(response);
    setNumber(mobileOf(response.body as ScimUser).primary ?? '');
  }

  useEffect(() => {
    reload().catch((failure: unknown) => setError(messageOf(failure)));
  }, [userPath]);

  async function run(action: () => Promise<string | undefined>) {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      setNotice(await action());
    } catch (failure) {
      if (failure instanceof ApiError) setHints((previous) => hintsFrom(failure.headers, previous));
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  const write = async (body: unknown) => {
    const response = await api<ScimUser>(userPath, { method: 'PATCH', body, contentType: 'application/scim+json' });
    accept(response);
    return mobileOf(response.body as ScimUser);
  };

  const save = () =>
    run(async () => {
      const trimmed = number.trim();
      if (trimmed === '') return 'Enter a mobile number first.';
      const next = await write(setPrimaryMobile(trimmed));
      setCode('');
      return next.pending === undefined
        ? `Saved: ${next.primary ?? trimmed} is the primary number.`
        : `A verification code was sent to ${next.pending}. Enter it below.`;
    });

  const addNumber = () =>
    run(async () => {
      const trimmed = extra.trim();
      if (trimmed === '' || mobile === undefined) return 'Enter the number to add first.';
      await write(setNumberLists({ all: [...mobile.all, trimmed] }));
      setExtra('');
      return `Added ${trimmed}. Use "Verify" beside it to confirm it.`;
    });

  const verifyListed = (listed: string) =>
    run(async () => {
      if (mobile === undefined) return undefined;
      const next = await write(setNumberLists({ verified: [...mobile.verified, listed] }));
      setCode('');
      return next.pending === undefined ? `${listed} is verified.` : `A verification code was sent to ${listed}.`;
    });

  const makePrimary = (listed: string) =>
    run(async () => {
      await write(setPrimaryMobile(listed));
      return `${listed} is now the primary number.`;
    });

  const verify = () =>
    run(async () => {
      const given = code.trim();
      if (given === '') return 'Enter the code from the SMS first.';
      const pending = mobile?.pending;
      if (target.kind === 'self') {
        await api(`${IDENTITY}/me/validate-code`, { method: 'POST', body: { code: given, properties: [] } });
      } else {
        await api(`${IDENTITY}/validate-code`, { method: 'POST', body: { code: given, properties: [] } });
      }
      setCode('');
      setHints({ resendAt: undefined, attemptsRemaining: undefined });
      await reload();
      return `Verified: ${pending ?? 'the number'} is confirmed.`;
    });

  const resend = () =>
    run(async () => {
      let lastError: unknown;
      // The prompt does not know which scenario started the code: the first one with a pending code answers.
      for (const scenario of SCENARIOS) {
        const properties = [{ key: 'RecoveryScenario', value: scenario }];
        try {
          const response =
            target.kind === 'self'
              ? await api(`${IDENTITY}/me/resend-code`, { method: 'POST', body: { properties } })
              : await api(`${IDENTITY}/resend-code`, {
                  method: 'POST',
                  body: { user: { username: target.userName, realm: 'PRIMARY' }, properties },
                });
          setHints((previous) => hintsFrom(response.headers, previous));
          return `A new code was sent to ${mobile?.pending ?? 'the pending number'}.`;
        } catch (failure) {
          lastError = failure;
          if (!(failure instanceof ApiError && failure.code === 'UAR-10011')) throw failure;
        }
      }
      throw lastError;
    });

  if (user === undefined || mobile === undefined) {
    return error === undefined ? (
      <p>Loading…</p>
    ) : (
      <p class="error" role="alert">
        {error}
      </p>
    );
  }
  const listed = [...new Set([mobile.primary, ...mobile.all, ...mobile.verified].filter((n): n is string => !!n))];

  return (
    <section class="card" aria-labelledby="mobile-heading">
      <h2 id="mobile-heading">Mobile numbers</h2>
      {listed.length === 0 ? (
        <p>No mobile number yet.</p>
      ) : (
        <ul class="numbers" aria-label="Mobile numbers">
          {listed.map((entry) => {
            const isPrimary = entry === mobile.primary;
            const verified = isPrimary ? mobile.primaryVerified : mobile.verified.includes(entry);
            const pending = entry === mobile.pending;
            return (
              <li key={entry}>
                <span class="number">{entry}</span>
                {isPrimary && <span class="badge primary">Primary</span>}
                {verified ? <span class="badge ok">Verified</span> : <span class="badge warn">Not verified</span>}
                {pending && <span class="badge info">Pending</span>}
                {!isPrimary && !verified && !pending && (
                  <button
                    type="button"
                    class="small"
                    aria-label={`Verify ${entry}`}
                    disabled={busy}
                    onClick={() => verifyListed(entry)}
                  >
                    Verify number
                  </button>
                )}
                {!isPrimary && verified && (
                  <button
                    type="button"
                    class="small"
                    aria-label={`Make ${entry} primary`}
                    disabled={busy}
                    onClick={() => makePrimary(entry)}
                  >
                    Make primary
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {mobile.pending !== undefined && mobile.pending !== mobile.primary && !listed.includes(mobile.pending) && (
        <p>
          Pending: <span class="number">{mobile.pending}</span> <span class="badge info">Pending</span>
        </p>
      )}

      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <label for="mobile-number">Mobile number</label>
        <input
          id="mobile-number"
          type="tel"
          autocomplete="tel"
          value={number}
          onInput={(e) => setNumber(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Save
        </button>
      </form>

      {mobile.pending !== undefined && (
        <form
          class="prompt"
          aria-label="Verify the pending number"
          onSubmit={(event) => {
            event.preventDefault();
            void verify();
          }}
        >
          <p>
            Enter the code sent to <strong>{mobile.pending}</strong>
            {target.kind === 'admin' ? ' (as the user told it to you).' : '.'}
          </p>
          <div class="row">
            <label for="verification-code">Verification code</label>
            <input
              id="verification-code"
              inputMode="numeric"
              autocomplete="one-time-code"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
            <button type="submit" disabled={busy}>
              Verify
            </button>
            <button type="button" class="secondary" disabled={busy || wait > 0} onClick={() => void resend()}>
              Resend code
            </button>
          </div>
          <p class="hint">
            {wait > 0 && (
              <span role="timer" aria-live="off">
                You can request a new code in {wait} s.{' '}
              </span>
            )}
            {hints.attemptsRemaining !== undefined && <span>{hints.attemptsRemaining} attempt(s) remaining.</span>}
          </p>
        </form>
      )}

      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          void addNumber();
        }}
      >
        <label for="extra-number">Add a number</label>
        <input id="extra-number" type="tel" value={extra} onInput={(e) => setExtra(e.currentTarget.value)} />
        <button type="submit" class="secondary" disabled={busy}>
          Add number
        </button>
      </form>

      <Messages notice={notice} error={error} />
    </section>
  );
}

export function messageOf(failure: unknown): string {
  if (failure instanceof ApiError) {
    if (failure.code === 'SCIM' || /not writable/.test(failure.message)) {
      return `${failure.message}. This server keeps one mobile number per user (MULTIPLE_MOBILE_NUMBERS is off).`;
    }
    return failure.message;
  }
  if (failure instanceof TypeError) return 'The server cannot be reached. Check your connection and try again.';
  return failure instanceof Error ? failure.message : String(failure);
}
