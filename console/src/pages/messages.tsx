/**
 * The message browser: one partition, a page of records from an offset or a timestamp, paging
 * forward and back, a filter over the loaded page, and each record's key, value and headers.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { Bytes, ProblemBox, useLoad } from "../components.js";
import { matchesFilter, preview, showBytes, timestamp } from "../format.js";
import { navigate, paths } from "../router.js";
import { ConsumedBy } from "./consumed-by.js";
import { Trace } from "./trace.js";
import type { FetchedRecord, RecordPage, TopicDescription } from "../types.js";

export type Start =
  | { readonly kind: "latest" }
  | { readonly kind: "earliest" }
  | { readonly kind: "offset"; readonly offset: number }
  | { readonly kind: "timestamp"; readonly timestamp: number };

export interface Position {
  readonly partition: number;
  readonly start: Start;
}

const PAGE_SIZES = [20, 50, 100] as const;

/** `?partition=1&offset=40` or `?partition=1&timestamp=1795598566000`; the latest page of partition 0 by default. */
export function positionFromQuery(query: URLSearchParams): Position {
  const int = (name: string) => {
    const raw = query.get(name);
    return raw !== null && /^\d{1,16}$/.test(raw) ? Number(raw) : undefined;
  };
  const offset = int("offset");
  const at = int("timestamp");
  const start: Start = offset !== undefined ? { kind: "offset", offset } : at !== undefined ? { kind: "timestamp", timestamp: at } : { kind: "latest" };
  return { partition: int("partition") ?? 0, start };
}

interface LoadedPage {
  readonly from: number;
  readonly page: RecordPage;
  readonly note?: string;
}

async function loadPage(topic: string, position: Position, size: number): Promise<LoadedPage> {
  const { partition, start } = position;
  let from: number;
  let note: string | undefined;
  if (start.kind === "offset") from = start.offset;
  else if (start.kind === "earliest") from = (await api.offsetAt(topic, partition, "earliest")).offset ?? 0;
  else {
    const [earliest, latest, at] = await Promise.all([
      api.offsetAt(topic, partition, "earliest"),
      api.offsetAt(topic, partition, "latest"),
      start.kind === "timestamp" ? api.offsetAt(topic, partition, start.timestamp) : undefined,
    ]);
    const lastPage = Math.max(earliest.offset ?? 0, (latest.offset ?? 0) - size);
    if (at === undefined) from = lastPage;
    else if (at.offset !== null) from = at.offset;
    else {
      from = latest.offset ?? 0;
      note = `No record at or after ${timestamp(start.kind === "timestamp" ? start.timestamp : 0)}: showing the end of the partition.`;
    }
  }
  return { from, page: await api.fetchRecords(topic, partition, from, size), note };
}

export function MessageBrowser(props: { topic: TopicDescription; position: Position; onPosition: (position: Position) => void }): JSX.Element {
  const { topic, position, onPosition } = props;
  const [size, setSize] = useState<number>(PAGE_SIZES[0]);
  const [filter, setFilter] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const loaded = useLoad(() => loadPage(topic.name, position, size), [topic.name, JSON.stringify(position), size]);
  const current = loaded.data;

  // The page shown is linkable: the address bar says which partition and offset.
  useEffect(() => {
    if (current) navigate(paths.topic(topic.name, { partition: position.partition, offset: current.from }), { replace: true });
  }, [current, topic.name, position.partition]);

  const go = (start: Start) => {
    setOpen(null);
    // The same start again (Latest twice) means "load it again": the log may have grown.
    if (JSON.stringify(start) === JSON.stringify(position.start)) loaded.reload();
    else onPosition({ partition: position.partition, start });
  };
  const page = current?.page;
  const records = page?.records ?? [];
  const shown = records.filter((r) => matchesFilter(r, filter));
  return (
    <div class="browser">
      <div class="controls">
        <label>
          Partition{" "}
          <select name="browse-partition" value={String(position.partition)} onChange={(e) => onPosition({ partition: Number((e.target as HTMLSelectElement).value), start: { kind: "latest" } })}>
            {topic.partitions.map((p) => (
              <option key={p.partition} value={String(p.partition)}>
                {p.partition}
              </option>
            ))}
          </select>
        </label>
        <OffsetForm onGo={(offset) => go({ kind: "offset", offset })} />
        <TimeForm onGo={(ms) => go({ kind: "timestamp", timestamp: ms })} />
        <label>
          Page{" "}
          <select name="page-size" value={String(size)} onChange={(e) => setSize(Number((e.target as HTMLSelectElement).value))}>
            {PAGE_SIZES.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="paging">
        <button type="button" onClick={() => go({ kind: "earliest" })} disabled={!page || current.from <= page.logStartOffset}>
          ⇤ Oldest
        </button>
        <button type="button" onClick={() => current && page && go({ kind: "offset", offset: Math.max(page.logStartOffset, current.from - size) })} disabled={!page || current.from <= page.logStartOffset}>
          ← Older
        </button>
        <button type="button" onClick={() => page && go({ kind: "offset", offset: page.nextOffset })} disabled={!page || page.nextOffset >= page.highWatermark}>
          Newer →
        </button>
        <button type="button" onClick={() => go({ kind: "latest" })}>
          Latest ⇥
        </button>
        {page && (
          <span class="range" data-testid="range">
            offsets {current.from}–{Math.max(current.from, page.nextOffset - 1)} of {page.logStartOffset}–{page.highWatermark} {loaded.loading && "· loading…"}
          </span>
        )}
        <input class="filter" type="search" name="filter" placeholder="Filter this page" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      {current?.note && <p class="note">{current.note}</p>}
      {loaded.problem && <ProblemBox problem={loaded.problem} retry={loaded.reload} />}
      {page && records.length === 0 && <p class="empty">No records here{page.highWatermark === current.from ? " yet: this is the end of the partition" : ""}.</p>}
      {filter && records.length > 0 && (
        <p class="note">
          {shown.length} of {records.length} loaded records match.
        </p>
      )}
      {page && shown.length > 0 && (
        <table class="messages">
          <thead>
            <tr>
              <th class="num">Offset</th>
              <th>Timestamp</th>
              <th>Key</th>
              <th>Value</th>
              <th class="num">Headers</th>
              <th>Producer</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <MessageRow key={r.offset} topic={topic.name} partition={page.partition} record={r} open={open === r.offset} onToggle={() => setOpen(open === r.offset ? null : r.offset)} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function MessageRow(props: { topic: string; partition: number; record: FetchedRecord; open: boolean; onToggle: () => void }): JSX.Element {
  const { record } = props;
  const key = showBytes(record.key, record.keyEncoding);
  const value = showBytes(record.value, record.valueEncoding);
  return (
    <>
      <tr class={props.open ? "message open" : "message"} data-offset={record.offset} onClick={props.onToggle} tabIndex={0} onKeyDown={(e) => e.key === "Enter" && props.onToggle()} aria-expanded={props.open}>
        <td class="num">{record.offset}</td>
        <td>{timestamp(record.timestamp)}</td>
        <td class="key">{preview(key, 40)}</td>
        <td class="value">{preview(value)}</td>
        <td class="num">{record.headers.length}</td>
        <td class="producer">
          <Producer record={record} />
        </td>
      </tr>
      {props.open && (
        <tr class="details">
          <td colSpan={6}>
            <MessageDetails topic={props.topic} partition={props.partition} record={record} />
          </td>
        </tr>
      )}
    </>
  );
}

/** The producer id (idempotent or transactional producers only) and a "transactional" badge. */
function Producer(props: { record: FetchedRecord }): JSX.Element {
  const { producerId, transactional } = props.record;
  return (
    <>
      {producerId === null ? <span class="muted">—</span> : <span class="producer-id">{producerId}</span>}
      {transactional && (
        <span class="badge tx" title="Written by a transactional commit">
          transactional
        </span>
      )}
    </>
  );
}

function MessageDetails(props: { topic: string; partition: number; record: FetchedRecord }): JSX.Element {
  const { record } = props;
  return (
    <div class="message-details" data-offset={record.offset}>
      <dl class="facts">
        <dt>Offset</dt>
        <dd>{record.offset}</dd>
        <dt>Timestamp</dt>
        <dd>
          {timestamp(record.timestamp)} ({record.timestamp})
        </dd>
        <dt>Producer id</dt>
        <dd class="detail-producer">{record.producerId ?? "none (not an idempotent or transactional producer)"}</dd>
        <dt>Transactional</dt>
        <dd class="detail-transactional">{record.transactional ? "yes: written by a transactional commit" : "no"}</dd>
      </dl>
      <h3>Key</h3>
      <div class="detail-key">
        <Bytes shown={showBytes(record.key, record.keyEncoding)} />
      </div>
      <h3>Value</h3>
      <div class="detail-value">
        <Bytes shown={showBytes(record.value, record.valueEncoding)} />
      </div>
      <h3>Headers</h3>
      {record.headers.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <table class="headers">
          <tbody>
            {record.headers.map((h, i) => (
              <tr key={i}>
                <th>{h.key}</th>
                <td>
                  <Bytes shown={showBytes(h.value, h.valueEncoding)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Consumers</h3>
      <ConsumedBy topic={props.topic} partition={props.partition} offset={record.offset} />
      <h3>Trace</h3>
      <Trace topic={props.topic} partition={props.partition} offset={record.offset} />
    </div>
  );
}

function OffsetForm(props: { onGo: (offset: number) => void }): JSX.Element {
  const [text, setText] = useState("");
  const submit = (e: Event) => {
    e.preventDefault();
    if (/^\d{1,16}$/.test(text.trim())) props.onGo(Number(text.trim()));
  };
  return (
    <form class="inline" onSubmit={submit}>
      <label>
        Offset <input name="offset" inputMode="numeric" size={8} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Go</button>
    </form>
  );
}

function TimeForm(props: { onGo: (ms: number) => void }): JSX.Element {
  const [text, setText] = useState("");
  const submit = (e: Event) => {
    e.preventDefault();
    // datetime-local is the browser's local time; Date parses it as such.
    const ms = new Date(text).getTime();
    if (Number.isFinite(ms) && ms >= 0) props.onGo(ms);
  };
  return (
    <form class="inline" onSubmit={submit}>
      <label>
        From time <input name="time" type="datetime-local" step={1} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Go</button>
    </form>
  );
}
