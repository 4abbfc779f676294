/** Produces one test record (UTF-8 text) through the produce route, then shows where it landed. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Problem } from "../api.js";
import { ProblemBox, toProblem } from "../components.js";
import { parseHeaderLines } from "../format.js";
import type { TopicDescription } from "../types.js";

export function ProduceForm(props: { topic: TopicDescription; onProduced: (partition: number, offset: number) => void }): JSX.Element {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [headers, setHeaders] = useState("");
  const [partition, setPartition] = useState("auto");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ written?: string; problem?: Problem }>({});

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const result = await api.produce(props.topic.name, {
        // An empty key field means no key (null): records without a key spread over partitions.
        key: key === "" ? null : key,
        value,
        headers: parseHeaderLines(headers),
        ...(partition === "auto" ? {} : { partition: Number(partition) }),
      });
      const written = result.partitions[0]!;
      setOutcome({ written: `Written to partition ${written.partition} at offset ${written.baseOffset}.` });
      props.onProduced(written.partition, written.baseOffset);
    } catch (error) {
      setOutcome({ problem: toProblem(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="produce" onSubmit={submit}>
      <label>
        Key <input name="key" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} placeholder="empty: no key" />
      </label>
      <label>
        Partition{" "}
        <select name="partition" value={partition} onChange={(e) => setPartition((e.target as HTMLSelectElement).value)}>
          <option value="auto">by key</option>
          {props.topic.partitions.map((p) => (
            <option key={p.partition} value={String(p.partition)}>
              {p.partition}
            </option>
          ))}
        </select>
      </label>
      <label class="wide">
        Value <textarea name="value" rows={4} value={value} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
      </label>
      <label class="wide">
        <span>
          Headers, one <code>name=value</code> a line
        </span>
        <textarea name="headers" rows={2} value={headers} onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)} />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? "Producing…" : "Produce"}
      </button>
      {outcome.written && (
        <p class="written" role="status">
          {outcome.written}
        </p>
      )}
      {outcome.problem && <ProblemBox problem={outcome.problem} />}
    </form>
  );
}
