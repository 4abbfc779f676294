/** `/console`: every topic the caller may describe, with its settings, per-partition offsets and throughput. */
import type { JSX } from "preact";
import { api, mapLimit } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { duration, rate, ratesPerSecond, retained, retainedSize, size, topicPoints } from "../format.js";
import { Link, paths } from "../router.js";
import { AutoRefresh, HISTORY_MINUTES, isNumber, useSamples, type Sample } from "../sampling.js";
import { Sparkline } from "../sparkline.js";
import type { TopicDescription, TopicsHistory } from "../types.js";

/** Per topic, the sum of its partitions' high watermarks: how many offsets it has ever written. */
type Written = Readonly<Record<string, number>>;

/** A sample read back from sessionStorage: an object of numbers. */
const isWritten = (value: unknown): value is Written => typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every(isNumber);

/** Per topic, the broker's samples of its Σ high watermarks, oldest first. */
type Histories = ReadonlyMap<string, readonly Sample<number>[]>;

const NO_HISTORY: Histories = new Map();

const histories = (answer: TopicsHistory): Histories => new Map(answer.topics.map((t) => [t.topic, t.samples.map((s) => ({ at: Date.parse(s.at), value: s.highWatermark }))]));

/** Partitions listed inline per topic; the topic's own page lists them all. */
const INLINE_PARTITIONS = 8;

export function TopicsPage(): JSX.Element {
  const topics = useLoad(async () => {
    const listed = await api.listTopics();
    return mapLimit(listed, 6, (t) => api.describeTopic(t.name));
  }, []);
  // Throughput: the broker's samples of the last hour, every topic in one request (GET /v1/history/topics),
  // then what this tab samples while the page is open (kept across reloads). A failure (no right,
  // an older broker) is no history: the sparklines then start with the tab's samples.
  const history = useLoad(() => api.topicsHistory(HISTORY_MINUTES).then(histories, () => NO_HISTORY), []);
  const samples = useSamples<TopicDescription[], Written>(
    "topics",
    topics.data,
    (list) => Object.fromEntries(list.map((t) => [t.name, t.partitions.reduce((sum, p) => sum + p.highWatermark, 0)])),
    isWritten,
  );
  return (
    <section>
      <h1>
        Topics <Refresh loading={topics.loading} onClick={topics.reload} />
        <AutoRefresh reload={topics.reload} />
      </h1>
      {topics.problem && <ProblemBox problem={topics.problem} retry={topics.reload} />}
      {topics.data && topics.data.length === 0 && <p class="empty">No topics yet (or none this API key may describe).</p>}
      {topics.data && topics.data.length > 0 && <TopicTable topics={topics.data} samples={samples} history={history.data ?? NO_HISTORY} />}
    </section>
  );
}

function TopicTable(props: { topics: readonly TopicDescription[]; samples: readonly Sample<Written>[]; history: Histories }): JSX.Element {
  const throughput = (topic: string): Points => {
    const { points, fromHistory, live } = topicPoints(props.history.get(topic) ?? [], props.samples, topic);
    return { rates: ratesPerSecond(points), fromHistory, live };
  };
  return (
    <table class="topics">
      <thead>
        <tr>
          <th>Topic</th>
          <th class="num">Partitions</th>
          <th>Retention</th>
          <th>Compression</th>
          <th class="num">Records</th>
          <th class="num">Size</th>
          <th>Offsets per partition (log start – high watermark)</th>
          <th>Records/s</th>
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
            <td class="num size">≈ {size(retainedSize(topic.partitions))}</td>
            <td class="offsets">
              {topic.partitions.slice(0, INLINE_PARTITIONS).map((p) => (
                <span key={p.partition} class="offset-range">
                  {p.partition}: {p.logStartOffset}–{p.highWatermark}
                </span>
              ))}
              {topic.partitions.length > INLINE_PARTITIONS && <span class="more">+{topic.partitions.length - INLINE_PARTITIONS} more</span>}
            </td>
            <td class="throughput">
              <Throughput points={throughput(topic.name)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A topic's rates, and how many of the points behind them the broker kept and this tab took. */
interface Points {
  readonly rates: readonly number[];
  readonly fromHistory: number;
  readonly live: number;
}

function Throughput(props: { points: Points }): JSX.Element {
  const { rates, fromHistory, live } = props.points;
  if (rates.length === 0) return <span class="note" title="Refresh, or tick every 5 s, to sample the topics">—</span>;
  return (
    <span class="rate" data-history={fromHistory} data-live={live} title={`${fromHistory} samples kept by the broker (one a minute), ${live} taken by this tab`}>
      {/* One rate is a point, not a line: the chart starts with the second. */}
      {rates.length > 1 && <Sparkline values={rates} format={rate} label="Records per second, oldest first" width={80} height={18} />}{" "}
      <span class="rate-value">{rate(rates[rates.length - 1]!)}</span>
    </span>
  );
}
