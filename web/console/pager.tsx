export function Pager(props: {
  startIndex: number;
  count: number;
  total: number;
  onPage: (startIndex: number) => void;
}) {
  const { startIndex, count, total } = props;
  const last = Math.min(total, startIndex + count - 1);
  return (
    <div class="pager">
      <button
        type="button"
        class="secondary"
        disabled={startIndex <= 1}
        onClick={() => props.onPage(Math.max(1, startIndex - count))}
      >
        Previous
      </button>
      <span role="status">{total === 0 ? 'No results' : `${startIndex}–${last} of ${total}`}</span>
      <button type="button" class="secondary" disabled={last >= total} onClick={() => props.onPage(startIndex + count)}>
        Next
      </button>
    </div>
  );
}
