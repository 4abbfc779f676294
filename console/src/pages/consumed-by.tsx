/**
 * The first piece of tracing a message (docs/console.md): which consumer groups have committed past
 * a record — consumed it — and which have committed on its partition but not yet that far.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, mapLimit, type Problem } from "../api.js";
import { ProblemBox, toProblem } from "../components.js";
import { Link, paths } from "../router.js";

interface GroupPosition {
  readonly group: string;
  readonly committedOffset: number;
}

interface Consumers {
  readonly past: readonly GroupPosition[];
  readonly behind: readonly GroupPosition[];
}

async function findConsumers(topic: string, partition: number, offset: number): Promise<Consumers> {
  const groups = await api.listGroups();
  // A group this key may list but not describe (or one deleted meanwhile) is left out, not an error.
  const described = await mapLimit(groups, 6, (g) => api.describeGroup(g.group).catch(() => null));
  const positions: GroupPosition[] = [];
  for (const group of described) {
    const committed = group?.topics.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.committedOffset;
    if (group && committed !== undefined && committed !== null) positions.push({ group: group.group, committedOffset: committed });
  }
  // A committed offset is the next record to read: the group has consumed every record below it.
  return { past: positions.filter((p) => p.committedOffset > offset), behind: positions.filter((p) => p.committedOffset <= offset) };
}

export function ConsumedBy(props: { topic: string; partition: number; offset: number }): JSX.Element {
  const [state, setState] = useState<{ loading?: boolean; consumers?: Consumers; problem?: Problem }>({});
  const look = async () => {
    setState({ loading: true });
    try {
      setState({ consumers: await findConsumers(props.topic, props.partition, props.offset) });
    } catch (error) {
      setState({ problem: toProblem(error) });
    }
  };
  const list = (positions: readonly GroupPosition[]) =>
    positions.map((p, i) => (
      <span key={p.group}>
        {i > 0 && ", "}
        <Link href={paths.group(p.group)}>{p.group}</Link> (committed {p.committedOffset})
      </span>
    ));
  const { consumers } = state;
  return (
    <div class="consumed-by">
      {!consumers && (
        <button type="button" onClick={look} disabled={state.loading}>
          {state.loading ? "Looking…" : "Which groups have consumed this?"}
        </button>
      )}
      {state.problem && <ProblemBox problem={state.problem} />}
      {consumers && (
        <ul>
          <li class="past">Consumed by: {consumers.past.length > 0 ? list(consumers.past) : <span class="empty">no group</span>}</li>
          <li class="behind">Not yet by: {consumers.behind.length > 0 ? list(consumers.behind) : <span class="empty">no group</span>}</li>
        </ul>
      )}
    </div>
  );
}
