/** `/console/topics/<name>`: a topic's settings and partitions, its messages, and a produce form. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { duration, retained, retainedSize, size } from "../format.js";
import { Link, paths } from "../router.js";
import type { TopicDescription } from "../types.js";
import { MessageBrowser, positionFromQuery, type Position } from "./messages.js";
import { ProduceForm } from "./produce-form.js";

export function TopicPage(props: { topic: string; query: URLSearchParams }): JSX.Element {
  const topic = useLoad(() => api.describeTopic(props.topic), [props.topic]);
  const [position, setPosition] = useState<Position>(() => positionFromQuery(props.query));
  return (
    <section>
      <p class="crumbs">
        <Link href={paths.topics()}>Topics</Link> /
      </p>
      <h1>
        {props.topic} <Refresh loading={topic.loading} onClick={topic.reload} />
      </h1>
      {topic.problem && <ProblemBox problem={topic.problem} retry={topic.reload} />}
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
