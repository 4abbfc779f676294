/** `/console/topics/<name>`: a topic's settings and partitions, its messages, and a produce form. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { duration, rate, ratesPerSecond, retained, retainedSize, size } from "../format.js";
import { Link, paths } from "../router.js";
import { HISTORY_MINUTES, isNumber, span, useHistory, useSamples, withHistory } from "../sampling.js";
import { Sparkline } from "../sparkline.js";
import type { TopicDescription } from "../types.js";
import { MessageBrowser, positionFromQuery, type Position } from "./messages.js";
import { ProduceForm } from "./produce-form.js";

export function TopicPage(props: { topic: string; query: URLSearchParams }): JSX.Element {
  const topic = useLoad(() => api.describeTopic(props.topic), [props.topic]);
  const [position, setPosition] = useState<Position>(() => positionFromQuery(props.query));
  // Throughput: the broker's samples of the last hour (offsets written = Σ high watermarks), then this tab's.
  const history = useHistory(async () => (await api.topicHistory(props.topic, HISTORY_MINUTES)).samples.map((s) => ({ at: Date.parse(s.at), value: s.highWatermark })), [props.topic]);
  const live = useSamples(`topic:${props.topic}`, topic.data, (d) => d.partitions.reduce((sum, p) => sum + p.highWatermark, 0), isNumber);
  const samples = withHistory(history, live);
  const rates = ratesPerSecond(samples.map((s) => ({ at: s.at, count: s.value })));
  return (
    <section>
      <p class="crumbs">
        <Link href={paths.topics()}>Topics</Link> /
      </p>
      <h1>
        {props.topic} <Refresh loading={topic.loading} onClick={topic.reload} />
      </h1>
      {topic.problem && <ProblemBox problem={topic.problem} retry={topic.reload} />}
      {rates.length > 1 && (
        <p class="chart throughput-chart" data-history={samples.length - live.length} data-live={live.length}>
          <Sparkline values={rates} format={rate} label="Records per second, oldest first" />
          <span class="note">
            records per second over {span(samples)}, now {rate(rates[rates.length - 1]!)}: {samples.length - live.length} samples kept by the broker (one a minute), {live.length} taken by this tab
          </span>
        </p>
      )}
      {topic.data && (
        <>
          <TopicFacts topic={topic.data} />
          <h2>Messages</h2>
          <MessageBrowser topic={topic.data} position={position} onPosition={setPosition} />
          <h2>Produce a test message</h2>
          <ProduceForm
            topic={topic.data}
            onProduced={(partition, offset) => {
              setPosition({ partition, start: { kind: "offset", offset } });
              topic.reload();
            }}
          />
        </>
      )}
    </section>
  );
}

function TopicFacts(props: { topic: TopicDescription }): JSX.Element {
  const { topic } = props;
  return (
    <>
      <dl class="facts">
        <dt>Partitions</dt>
        <dd>{topic.partitionCount}</dd>
        <dt>Retention</dt>
        <dd>{duration(topic.retentionMs)}</dd>
        <dt>Compression</dt>
        <dd>{topic.compression}</dd>
        <dt>Timestamps</dt>
        <dd>{topic.timestampType}</dd>
        <dt>Created</dt>
        <dd>{topic.createdAt}</dd>
        <dt>Topic id</dt>
        <dd class="mono">{topic.topicId}</dd>
        <dt>Size</dt>
        <dd class="size" title={SIZE_NOTE}>
          ≈ {size(retainedSize(topic.partitions))}
        </dd>
      </dl>
      <table class="partitions">
        <thead>
          <tr>
            <th class="num">Partition</th>
            <th class="num">Log start</th>
            <th class="num">High watermark</th>
            <th class="num">Records (at most)</th>
            <th class="num" title={SIZE_NOTE}>
              Size (estimate)
            </th>
          </tr>
        </thead>
        <tbody>
          {topic.partitions.map((p) => (
            <tr key={p.partition} data-partition={p.partition}>
              <td class="num">{p.partition}</td>
              <td class="num">{p.logStartOffset}</td>
              <td class="num">{p.highWatermark}</td>
              <td class="num">{retained(p)}</td>
              <td class="num size" title={`${size(p.bytesWritten)} written in all`}>
                ≈ {size(p.retainedBytesEstimate)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const SIZE_NOTE = "Estimated from the bytes ever written and the share of offsets still retained (docs/api.md)";
