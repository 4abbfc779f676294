/**
 * GET /v1/topics/:topic/history, GET /v1/groups/:group/history and GET /v1/history/topics (docs/api.md,
 * "History"): the samples the history sampler kept (shared/core/history.ts), `?minutes=N` back
 * (1-1440, default 60). The same rights as describing the topic or group; a group's lag on topics
 * the caller may not describe is left out, as describeGroup leaves it out, and the topics' list
 * history holds the topics the caller may describe, as listing topics does.
 */
import type { Broker } from "../core/broker.js";
import { DEFAULT_HISTORY_MINUTES } from "../core/history.js";
import { authorize, group, mayAccess, topic } from "./authorization.js";
import type { Handler } from "./compose.js";
import { filterAsync, queryInt } from "./route-helpers.js";

export type HistoryRouteId = "topicHistory" | "groupHistory" | "topicsHistory";

const iso = (ms: number) => new Date(ms).toISOString();

export const historyHandlers: Record<HistoryRouteId, Handler<Pick<Broker, "topicHistory" | "groupHistory" | "topicsHistory">>> = {
  async topicHistory(c, broker) {
    const name = c.req.param("topic")!;
    const minutes = queryInt(c, "minutes") ?? DEFAULT_HISTORY_MINUTES;
    await authorize(c, topic(name, "Describe"));
    const history = await broker.topicHistory(name, minutes);
    return c.json({ ...history, from: iso(history.from), to: iso(history.to), samples: history.samples.map((s) => ({ ...s, at: iso(s.at) })) });
  },

  async topicsHistory(c, broker) {
    const minutes = queryInt(c, "minutes") ?? DEFAULT_HISTORY_MINUTES;
    const history = await broker.topicsHistory(minutes, (name) => mayAccess(c, topic(name, "Describe")));
    // `topics` first: an answer of nothing visible reads as an empty list, as listTopics's does.
    return c.json({
      topics: history.topics.map((t) => ({ ...t, samples: t.samples.map((s) => ({ ...s, at: iso(s.at) })) })),
      from: iso(history.from),
      to: iso(history.to),
      stride: history.stride,
    });
  },

  async groupHistory(c, broker) {
    const groupId = c.req.param("group")!;
    const minutes = queryInt(c, "minutes") ?? DEFAULT_HISTORY_MINUTES;
    await authorize(c, group(groupId, "Describe"));
    const history = await broker.groupHistory(groupId, minutes);
    const names = [...new Set(history.samples.flatMap((s) => s.topics.map((t) => t.topic)))];
    const visible = new Set(await filterAsync(names, (name) => mayAccess(c, topic(name, "Describe"))));
    const everything = visible.size === names.length;
    return c.json({
      group: history.group,
      from: iso(history.from),
      to: iso(history.to),
      stride: history.stride,
      samples: history.samples.map((s) => {
        const topics = s.topics.filter((t) => visible.has(t.topic));
        // Lag is topic data: with a topic hidden, the total is what the caller may see.
        return { at: iso(s.at), totalLag: everything ? s.totalLag : topics.reduce((sum, t) => sum + t.lag, 0), omittedTopics: s.omittedTopics, topics };
      }),
    });
  },
};
