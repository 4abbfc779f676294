/** `/console`: every topic the caller may describe, with its settings and per-partition offsets. */
import type { JSX } from "preact";
import { api, mapLimit } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { duration, retained } from "../format.js";
import { Link, paths } from "../router.js";
import type { TopicDescription } from "../types.js";

/** Partitions listed inline per topic; the topic's own page lists them all. */
const INLINE_PARTITIONS = 8;

export function TopicsPage(): JSX.Element {
  const topics = useLoad(async () => {
    const listed = await api.listTopics();
    return mapLimit(listed, 6, (t) => api.describeTopic(t.name));
  }, []);
  return (
    <section>
      <h1>
        Topics <Refresh loading={topics.loading} onClick={topics.reload} />
      </h1>
      {topics.problem && <ProblemBox problem={topics.problem} retry={topics.reload} />}
      {topics.data && topics.data.length === 0 && <p class="empty">No topics yet (or none this API key may describe).</p>}
      {topics.data && topics.data.length > 0 && <TopicTable topics={topics.data} />}
    </section>
  );
}

function TopicTable(props: { topics: readonly TopicDescription[] }): JSX.Element {
  return (
    <table class="topics">
      <thead>
        <tr>
          <th>Topic</th>
          <th class="num">Partitions</th>
          <th>Retention</th>
          <th>Compression</th>
          <th class="num">Records</th>
          <th>Offsets per partition (log start – high watermark)</th>
        </tr>
      </thead>
      <tbody>
        {props.topics.map((topic) => (
          <tr key={topic.name} data-topic={topic.name}>
            <td>
              <Link href={paths.topic(topic.name)}>{topic.name}</Link>
            </td>
            <td class="num">{topic.partitionCount}</td>
            <td>{duration(topic.retentionMs)}</td>
            <td>{topic.compression}</td>
            <td class="num records">{topic.partitions.reduce((sum, p) => sum + retained(p), 0)}</td>
            <td class="offsets">
              {topic.partitions.slice(0, INLINE_PARTITIONS).map((p) => (
                <span key={p.partition} class="offset-range">
                  {p.partition}: {p.logStartOffset}–{p.highWatermark}
                </span>
              ))}
              {topic.partitions.length > INLINE_PARTITIONS && <span class="more">+{topic.partitions.length - INLINE_PARTITIONS} more</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
