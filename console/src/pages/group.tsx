/** `/console/groups/<id>`: a group's state, members and their assignments, and per-partition lag. */
import type { JSX } from "preact";
import { api } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { Link, paths } from "../router.js";
import { AutoRefresh, HISTORY_MINUTES, isNumber, span, useHistory, useSamples, withHistory } from "../sampling.js";
import { Sparkline } from "../sparkline.js";
import type { GroupDescription } from "../types.js";

export function GroupPage(props: { group: string }): JSX.Element {
  const group = useLoad(() => api.describeGroup(props.group), [props.group]);
  const { reload } = group;
  // The broker's lag samples of the last hour, then what this tab samples (kept across reloads).
  const history = useHistory(async () => (await api.groupHistory(props.group, HISTORY_MINUTES)).samples.map((s) => ({ at: Date.parse(s.at), value: s.totalLag })), [props.group]);
  const live = useSamples(`group:${props.group}`, group.data, (d) => d.totalLag, isNumber);
  const samples = withHistory(history, live);
  const fromHistory = samples.length - live.length;
  return (
    <section>
      <p class="crumbs">
        <Link href={paths.groups()}>Consumer groups</Link> /
      </p>
      <h1>
        {props.group} <Refresh loading={group.loading} onClick={reload} />
        <AutoRefresh reload={reload} />
      </h1>
      {group.problem && <ProblemBox problem={group.problem} retry={reload} />}
      {samples.length > 1 && (
        <p class="chart lag-chart" data-history={fromHistory} data-live={live.length}>
          <Sparkline values={samples.map((s) => s.value)} label="Total lag, oldest first" />
          <span class="note">
            total lag over {span(samples)}: {fromHistory} samples kept by the broker (one a minute), {live.length} taken by this tab
          </span>
        </p>
      )}
      {group.data && <GroupDetails group={group.data} />}
    </section>
  );
}

function GroupDetails(props: { group: GroupDescription }): JSX.Element {
  const { group } = props;
  // Broker-made member ids are UUIDs: their start and end tell them apart (the full id is the cell's title).
  const shortId = (id: string | null) => (id === null ? "—" : id.length <= 24 ? id : `${id.slice(0, 8)}…${id.slice(-4)}`);
  return (
    <>
      <dl class="facts">
        <dt>State</dt>
        <dd class="state">{group.state}</dd>
        <dt>Group epoch</dt>
        <dd>{group.groupEpoch}</dd>
        <dt>Assignor</dt>
        <dd>{group.assignor}</dd>
        <dt>Total lag</dt>
        <dd class="total-lag">{group.totalLag}</dd>
      </dl>
      <h2>Members ({group.members.length})</h2>
      {group.members.length === 0 ? (
        <p class="empty">No live members.</p>
      ) : (
        <table class="members">
          <thead>
            <tr>
              <th>Member</th>
              <th>Instance</th>
              <th>State</th>
              <th class="num">Epoch</th>
              <th>Assignment</th>
              <th>Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {group.members.map((m) => (
              <tr key={m.memberId}>
                <td title={m.memberId}>{shortId(m.memberId)}</td>
                <td>{m.instanceId ?? "—"}</td>
                <td>{m.state}</td>
                <td class="num">{m.memberEpoch}</td>
                <td>{m.assignment.map((a) => `${a.topic}: ${a.partitions.join(", ")}`).join("; ") || "—"}</td>
                <td>{m.lastHeartbeatAt}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Offsets and lag</h2>
      {group.topics.length === 0 && <p class="empty">No subscribed topics and no committed offsets.</p>}
      {group.topics.map((t) => (
        <table key={t.topic} class="lag" data-topic={t.topic}>
          <caption>
            <Link href={paths.topic(t.topic)}>{t.topic}</Link> — lag {t.lag}
          </caption>
          <thead>
            <tr>
              <th class="num">Partition</th>
              <th class="num">Committed offset</th>
              <th class="num">High watermark</th>
              <th class="num">Lag</th>
              <th>Owner</th>
            </tr>
          </thead>
          <tbody>
            {t.partitions.map((p) => (
              <tr key={p.partition} data-partition={p.partition}>
                <td class="num">{p.partition}</td>
                <td class="num committed">{p.committedOffset ?? "—"}</td>
                <td class="num">{p.highWatermark}</td>
                <td class="num lag">{p.lag ?? "—"}</td>
                <td title={p.memberId ?? ""}>{shortId(p.memberId)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </>
  );
}
