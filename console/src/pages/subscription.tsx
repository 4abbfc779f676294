/** `/console/subscriptions/<name>`: a subscription's settings, and per partition its lag, counters, last error and retry. */
import type { JSX } from "preact";
import { api } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { duration } from "../format.js";
import { Link, paths } from "../router.js";
import { AutoRefresh, isNumber, spanSeconds, useSamples } from "../sampling.js";
import { Sparkline } from "../sparkline.js";
import type { SubscriptionDescription } from "../types.js";
import { PauseResume, StateBadge, targetText } from "./subscriptions.js";

export function SubscriptionPage(props: { name: string }): JSX.Element {
  const subscription = useLoad(() => api.describeSubscription(props.name), [props.name]);
  const { reload } = subscription;
  const samples = useSamples(`subscription:${props.name}`, subscription.data, (d) => d.totalLag, isNumber);
  return (
    <section>
      <p class="crumbs">
        <Link href={paths.subscriptions()}>Subscriptions</Link> /
      </p>
      <h1>
        {props.name} <Refresh loading={subscription.loading} onClick={reload} />
        <AutoRefresh reload={reload} />
      </h1>
      {subscription.problem && <ProblemBox problem={subscription.problem} retry={reload} />}
      {samples.length > 1 && (
        <p class="chart">
          <Sparkline values={samples.map((s) => s.value)} label="Total lag, oldest first" />
          <span class="note">
            total lag, {samples.length} samples over {spanSeconds(samples)} s, sampled by this browser tab while the page was open
          </span>
        </p>
      )}
      {subscription.data && <SubscriptionDetails subscription={subscription.data} onChanged={reload} />}
    </section>
  );
}

function SubscriptionDetails(props: { subscription: SubscriptionDescription; onChanged: () => void }): JSX.Element {
  const { subscription: s } = props;
  return (
    <>
      <dl class="facts">
        <dt>State</dt>
        <dd class="state">
          <StateBadge state={s.state} /> <PauseResume subscription={s} onChanged={props.onChanged} />
        </dd>
        <dt>Topic</dt>
        <dd>
          <Link href={paths.topic(s.topic)}>{s.topic}</Link>
          {!s.topicExists && " (deleted or re-created: nothing is delivered)"}
        </dd>
        <dt>Group</dt>
        <dd>
          <Link href={paths.group(s.group)}>{s.group}</Link>
        </dd>
        <dt>Target</dt>
        <dd class="target">
          {s.target.type}: {targetText(s.target)}
        </dd>
        <dt>Delivery</dt>
        <dd>{s.delivery}</dd>
        <dt>Batches</dt>
        <dd>
          up to {s.batchSize} records, window {s.maxBatchingWindowMs} ms, timeout {duration(s.timeoutMs)}
        </dd>
        <dt>Retries</dt>
        <dd>
          {s.maxRetries}, then {s.deadLetterTopic === null ? "skipped (no dead-letter topic)" : <Link href={paths.topic(s.deadLetterTopic)}>{s.deadLetterTopic}</Link>}
        </dd>
        <dt>Total lag</dt>
        <dd class="total-lag">{s.totalLag}</dd>
      </dl>
      <h2>Partitions</h2>
      <table class="subscription-partitions">
        <thead>
          <tr>
            <th class="num">Partition</th>
            <th class="num">Next to deliver</th>
            <th class="num">High watermark</th>
            <th class="num">Lag</th>
            <th class="num">Delivered</th>
            <th class="num">Failed</th>
            <th class="num">Dead-lettered</th>
            <th>Last error</th>
            <th>Retry</th>
            <th>Last delivered</th>
          </tr>
        </thead>
        <tbody>
          {s.partitions.map((p) => (
            <tr key={p.partition} data-partition={p.partition}>
              <td class="num">{p.partition}</td>
              <td class="num committed">{p.committedOffset < 0 ? "—" : p.committedOffset}</td>
              <td class="num">{p.highWatermark < 0 ? "—" : p.highWatermark}</td>
              <td class="num lag">{p.lag}</td>
              <td class="num delivered">{p.delivered}</td>
              <td class="num failed">{p.failed}</td>
              <td class="num">{p.deadLettered}</td>
              <td class="last-error">{p.lastError ? `${p.lastError.message} (offset ${p.lastError.offset}, ${p.lastError.at})` : "—"}</td>
              <td class="retry">{p.retry ? `offset ${p.retry.offset}, ${p.retry.attempts} failed, next at ${p.retry.nextAttemptAt}` : "—"}</td>
              <td>{p.lastDeliveredAt ? `${p.lastDeliveredAt}${p.lastLatencyMs === null ? "" : ` (${p.lastLatencyMs} ms)`}` : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
