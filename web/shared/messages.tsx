/** The outcome of the last action, announced politely to screen readers. */
export function Messages({ notice, error }: { notice: string | undefined; error: string | undefined }) {
  return (
    <div aria-live="polite">
      {notice !== undefined && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
