/** Pieces every page uses: loading data with its failure, and showing a problem or a byte string. */
import type { JSX } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, type Problem } from "./api.js";
import type { Shown } from "./format.js";

export interface Loaded<T> {
  readonly data?: T;
  readonly problem?: Problem;
  readonly loading: boolean;
  reload(): void;
}

export function toProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return { kind: "error", status: 0, code: "CONSOLE_ERROR", message: error instanceof Error ? error.message : String(error), details: {} };
}

/** Runs `load` when `deps` change and on `reload()`; the last answer wins, an earlier one is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; problem?: Problem; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState((previous) => ({ data: previous.data, problem: toProblem(error), loading: false })),
    );
    return () => {
      current = false;
    };
    // `load` itself is not a dependency: it is a new closure every render; the caller names what it reads.
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}

/** A refusal or failure, said plainly, with what to do about it. */
export function ProblemBox(props: { problem: Problem; retry?: () => void }): JSX.Element {
  const { problem } = props;
  let title: string;
  let text: string;
  switch (problem.kind) {
    case "unreachable":
      title = "The broker is unreachable";
      text = `${problem.message} Check that it is running, then retry.`;
      break;
    case "forbidden":
      title = `Not allowed (${problem.status} ${problem.code})`;
      text = `${problem.message} Ask an administrator for an ACL rule that allows this.`;
      break;
    case "unauthenticated":
      title = `The broker refused the API key (${problem.status} ${problem.code})`;
      text = problem.message;
      break;
    case "error":
      title = problem.status ? `${problem.status} ${problem.code}` : problem.code;
      text = problem.message;
      break;
  }
  return (
    <div class={`problem problem-${problem.kind}`} role="alert">
      <strong>{title}</strong>
      <p>{text}</p>
      {props.retry && (
        <button type="button" onClick={props.retry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** The whole of a key, value or header value. */
export function Bytes(props: { shown: Shown }): JSX.Element {
  const { shown } = props;
  if (shown.kind === "null") return <span class="null">null</span>;
  const label = shown.kind === "json" ? "JSON" : shown.kind === "hex" ? `binary, ${shown.bytes} bytes` : "text";
  return (
    <div class="bytes">
      <span class="bytes-kind">{label}</span>
      <pre class={`bytes-${shown.kind}`}>{shown.text}</pre>
    </div>
  );
}

export function Refresh(props: { loading: boolean; onClick: () => void }): JSX.Element {
  return (
    <button type="button" class="refresh" onClick={props.onClick} disabled={props.loading}>
      {props.loading ? "Loading…" : "Refresh"}
    </button>
  );
}
