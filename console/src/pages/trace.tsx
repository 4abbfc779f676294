/**
 * Tracing a message through transactions (docs/console.md, "Tracing a message"): the transaction
 * that wrote a record (and its inputs), and the transactions that consumed it (and their outputs),
 * each a link into the message browser — so a trace can be followed from input to output and back.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Problem } from "../api.js";
import { ProblemBox, toProblem } from "../components.js";
import { Link, paths } from "../router.js";
import type { RecordTrace, TracedTransaction } from "../types.js";

function transactionName(t: TracedTransaction): string {
  return `${t.transactionalId} #${t.transactionSequence} (producer ${t.producerId}, epoch ${t.producerEpoch})`;
}

export function Trace(props: { topic: string; partition: number; offset: number }): JSX.Element {
  const [state, setState] = useState<{ loading?: boolean; trace?: RecordTrace; problem?: Problem; for?: string }>({});
  const key = `${props.topic}/${props.partition}/${props.offset}`;
  const look = async () => {
    setState({ loading: true, for: key });
    try {
      setState({ trace: await api.traceRecord(props.topic, props.partition, props.offset), for: key });
    } catch (error) {
      setState({ problem: toProblem(error), for: key });
    }
  };
  // Another record selected: its trace is not this one's.
  const current = state.for === key ? state : {};
  const { trace } = current;
  return (
    <div class="trace">
      {!trace && (
        <button type="button" onClick={look} disabled={current.loading}>
          {current.loading ? "Tracing…" : "Trace this record"}
        </button>
      )}
      {current.problem && <ProblemBox problem={current.problem} />}
      {trace && (
        <ul>
          <li class="produced-by">
            Written by:{" "}
            {trace.producedBy ? (
              <>
                transaction {transactionName(trace.producedBy)}, which consumed{" "}
                {trace.producedBy.inputs.map((input, i) => (
                  <span key={i}>
                    {i > 0 && ", "}
                    <Link href={paths.topic(input.topic, { partition: input.partition, offset: Math.max(0, input.committedOffset - 1) })} class="trace-input">
                      {input.topic}[{input.partition}] up to {input.committedOffset - 1}
                    </Link>
                  </span>
                ))}
                {trace.producedBy.group && <> for group {trace.producedBy.group}</>}
              </>
            ) : (
              <span class="empty">{trace.transactional ? `a transaction of producer ${trace.producerId} (its record has expired)` : "no transaction"}</span>
            )}
          </li>
          <li class="consumed-by-transactions">
            Copied by:{" "}
            {trace.consumedBy.length > 0 ? (
              trace.consumedBy.map((t, i) => (
                <span key={i}>
                  {i > 0 && "; "}
                  transaction {transactionName(t)} of group {t.group} into{" "}
                  {t.outputs.map((output, j) => (
                    <span key={j}>
                      {j > 0 && ", "}
                      <Link href={paths.topic(output.topic, { partition: output.partition, offset: output.baseOffset })} class="trace-output">
                        {output.topic}[{output.partition}] {output.baseOffset}–{output.baseOffset + output.count - 1}
                      </Link>
                    </span>
                  ))}
                </span>
              ))
            ) : (
              <span class="empty">no transaction</span>
            )}
          </li>
        </ul>
      )}
    </div>
  );
}
