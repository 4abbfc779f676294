/**
 * The route scenario of the IAM coverage tests (iam-coverage-routes.test.ts): every route, through
 * the HTTP app of the function that serves it (harness.ts), with the faults and stale reads that
 * send each function down its rarer paths (lost responses, dead writers' gaps, collisions). It
 * leaves its topics, groups and subscriptions in the fixture's tables, where the history sampler's
 * test then reads them. Expected statuses keep the run honest: a step that failed early would
 * exercise less than it claims.
 */
import { expect } from "vitest";
import { createDynamoStorage } from "../../../shared/storage/dynamo-storage.js";
import { topicName } from "../../support/broker.js";
import { uniqueName } from "../../support/dynamodb.js";
import { startWebhookTarget, type WebhookTarget } from "../../support/webhook-target.js";
import { dropResponse, hideFromLogQuery, HOLE_TIMEOUT_MS, type IamFixture } from "./harness.js";

/** The push subscriptions the dispatcher delivers: their topics, the webhook target, both made through the subscriptions function. */
export interface Deliveries {
  /** The subscribed topic (2 partitions). */
  readonly topic: string;
  /** The at-least-once subscription's dead-letter topic. */
  readonly deadLetters: string;
  /** Where the exactly-once subscription's target answers its outputs. */
  readonly outputs: string;
  /** The at-least-once subscription (`<name>-eos`: the exactly-once one). */
  readonly name: string;
  readonly webhook: WebhookTarget;
}

/**
 * Two subscriptions on one topic, from the earliest offset: at-least-once with no retries and a
 * dead-letter topic (its target refuses a record whose value is "poison"), and exactly-once (its
 * target answers each record as an output record). The webhook target stops at the fixture's close.
 */
export async function createDeliveries(fx: IamFixture): Promise<Deliveries> {
  const { call } = fx;
  const subscriptionTopic = topicName("iam-sub");
  const deadLetters = topicName("iam-dlq");
  const outputs = topicName("iam-eos");
  for (const [name, partitions] of [[subscriptionTopic, 2], [deadLetters, 1], [outputs, 1]] as const) {
    expect((await call("admin", "POST", "/v1/topics", { name, partitions })).status).toBe(201);
  }
  const webhook = await startWebhookTarget((event) => {
    const values = Object.values(event.records).flat().map((r) => Buffer.from(r.value ?? "", "base64").toString());
    return values.includes("poison") ? { status: 500 } : { status: 200 };
  });
  fx.onClose(() => webhook.close());
  // Exactly-once: the answer is the output, written with the input offsets in one transaction.
  webhook.responders.set("/eos", (event) => ({ status: 200, body: { records: Object.values(event.records).flat().map((r) => ({ topic: outputs, value: r.value })) } }));
  const subscription = uniqueName("iam-sub");
  const common = { topic: subscriptionTopic, startingPosition: "earliest" };
  const created = await call("subscriptions", "POST", "/v1/subscriptions", { ...common, name: subscription, webhook: `${webhook.baseUrl}/alo`, maxRetries: 0, deadLetterTopic: deadLetters });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await call("subscriptions", "POST", "/v1/subscriptions", { ...common, name: `${subscription}-eos`, webhook: `${webhook.baseUrl}/eos`, delivery: "exactly-once" })).status).toBe(201);
  return { topic: subscriptionTopic, deadLetters, outputs, name: subscription, webhook };
}

/** Every route, through the function that serves it, as an admin (a super user's key). */
export async function exerciseEveryRoute(fx: IamFixture): Promise<void> {
  const { call, clock } = fx;
  // Security administration: API keys and ACL rules.
  const key = await call("admin", "POST", "/v1/api-keys", { principal: "User:iam-other" });
  expect(key.status).toBe(201);
  expect((await call("admin", "GET", "/v1/api-keys")).status).toBe(200);
  expect((await call("admin", "DELETE", `/v1/api-keys/${String(key.body["keyId"])}`)).status).toBe(200);
  const rule = await call("admin", "POST", "/v1/acls", { principal: "User:iam-other", resourceType: "Topic", resourceName: "x", operation: "Read" });
  expect(rule.status).toBe(201);
  expect((await call("admin", "GET", "/v1/acls")).status).toBe(200);
  expect((await call("admin", "DELETE", `/v1/acls/${String(rule.body["id"])}`)).status).toBe(200);

  // Every route, through the function that serves it. Expected statuses keep the run honest: a
  // step that failed early would exercise less than it claims.
  const topic = topicName("iam");
  const other = topicName("iam-other");
  expect((await call("admin", "POST", "/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);
  expect((await call("admin", "POST", "/v1/topics", { name: other, partitions: 1 })).status).toBe(201);
  expect((await call("admin", "GET", "/v1/topics")).status).toBe(200);

  const producer = (await call("produce", "POST", "/v1/producers", {})).body;
  const transactionalId = uniqueName("tid");
  expect((await call("produce", "POST", "/v1/producers", { transactionalId })).status).toBe(200);
  const txn = (await call("produce", "POST", "/v1/producers", { transactionalId })).body; // bumps the epoch
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ key: "a", value: "1" }, { key: "b", value: "2" }] })).status).toBe(200);
  const idempotent = { encoding: "utf8", producerId: producer["producerId"], producerEpoch: 0, partitions: [{ partition: 0, baseSequence: 0, records: [{ value: "x" }] }] };
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, idempotent)).status).toBe(200);
  const duplicate = await call("produce", "POST", `/v1/topics/${topic}/records`, idempotent);
  expect((duplicate.body["partitions"] as { duplicate: boolean }[])[0]!.duplicate).toBe(true);
  // A lost response to the batch put: the writer voids or checks its own slot (GetItem) before answering.
  dropResponse.set("produce", "PutItem");
  const next = { ...idempotent, partitions: [{ partition: 0, baseSequence: 1, records: [{ value: "y" }] }] };
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, next)).status).toBe(200);
  expect(dropResponse.has("produce")).toBe(false);

  const committed = await call("transactions", "POST", "/v1/transactions", {
    transactionalId,
    producerId: txn["producerId"],
    producerEpoch: txn["epoch"],
    transactionSequence: 0,
    encoding: "utf8",
    records: [{ topic: other, key: "k", value: "v" }],
    offsets: { group: "g-txn", offsets: [{ topic, partition: 0, offset: 1 }] },
  });
  expect(committed.status).toBe(200);
  // Trace: the input record 0 → the transaction that committed past it (index Query + record
  // GetItem); the output record → its batch's transaction (GetItem).
  const output = (committed.body["partitions"] as { topic: string; partition: number; baseOffset: number }[])[0]!;
  const traced = await call("admin", "GET", `/v1/topics/${topic}/partitions/0/records/0/trace`);
  expect((traced.body["consumedBy"] as unknown[]).length).toBe(1);
  const back = await call("admin", "GET", `/v1/topics/${output.topic}/partitions/${output.partition}/records/${output.baseOffset}/trace`);
  expect(back.body["producedBy"]).toMatchObject({ transactionalId });
  // Lost responses: with records the witness slot is checked (GetItem on the log); with offsets
  // only, the transactional id's sequence is read (GetItem on producers).
  dropResponse.set("transactions", "TransactWriteItems");
  const identity = { transactionalId, producerId: txn["producerId"], producerEpoch: txn["epoch"] };
  expect((await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 1, records: [{ topic: other, value: "dg==" }] })).status).toBe(200);
  dropResponse.set("transactions", "TransactWriteItems");
  expect((await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 2, offsets: { group: "g-txn", offsets: [{ topic, partition: 1, offset: 0 }] } })).status).toBe(200);
  expect(dropResponse.has("transactions")).toBe(false);

  // Dead writers: reservations nobody writes, old enough to be filled, on both partitions.
  const storage = createDynamoStorage(fx.setupClient(), fx.tables);
  const id = (await storage.topics.get(topic))!.topicId;
  await storage.log.reserve({ topicId: id, partition: 0 }, 3, clock.now());
  const p1End = (await storage.log.reserve({ topicId: id, partition: 1 }, 2, clock.now()))! + 2;
  // A record after the gap on partition 0; the gap is judged by that record's age.
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, { records: [{ value: "YWZ0ZXI=", partition: 0 }] })).status).toBe(200);
  clock.advance(HOLE_TIMEOUT_MS + 1);

  // A dead idempotent writer (docs/append.md): its sequence claim stands, its batch was never put.
  // The client's retry settles the claim: reads the slot and the log start, voids the slot, rewinds.
  const claimedTopic = topicName("iam-claim");
  expect((await call("admin", "POST", "/v1/topics", { name: claimedTopic, partitions: 1 })).status).toBe(201);
  const claimedRef = { topicId: (await storage.topics.get(claimedTopic))!.topicId, partition: 0 };
  const deadClaim = (await storage.log.reserve(claimedRef, 1, clock.now()))!;
  await storage.producers.claimSequence(claimedRef, { producerId: producer["producerId"] as number, epoch: 0, baseSequence: 0, lastSequence: 0 }, deadClaim);
  const settled = await call("produce", "POST", `/v1/topics/${claimedTopic}/records`, { ...idempotent, partitions: [{ partition: 0, baseSequence: 0, records: [{ value: "z" }] }] });
  expect(settled.status, JSON.stringify(settled.body)).toBe(200);
  expect((settled.body["partitions"] as { baseOffset: number }[])[0]!.baseOffset).toBe(deadClaim + 1);

  // Readers fill the gaps (fetch on partition 0, admin's describe on partition 1).
  const fetched = await call("fetch", "GET", `/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
  expect(fetched.status).toBe(200);
  expect((fetched.body["records"] as unknown[]).length).toBeGreaterThan(0);
  const description = await call("admin", "GET", `/v1/topics/${topic}`);
  expect((description.body["partitions"] as { highWatermark: number }[])[1]!.highWatermark).toBe(p1End);
  const longPoll = await call("fetch", "POST", "/v1/fetch", { maxWaitMs: 600, partitions: [{ topic, partition: 1, offset: p1End }] });
  expect(longPoll.status).toBe(200);
  for (const at of ["earliest", "latest", String(clock.now() - 10_000)]) {
    const answer = await call("fetch", "GET", `/v1/topics/${topic}/partitions/0/offsets?at=${at}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }

  // A transaction too large for one TransactWriteItems (docs/transactions.md): staged batch items
  // (PutItem), then the commit record in the commit transaction.
  const wide = topicName("iam-wide");
  expect((await call("admin", "POST", "/v1/topics", { name: wide, partitions: 100 })).status).toBe(201);
  const wideRecords = Array.from({ length: 100 }, (_, partition) => ({ topic: wide, partition, value: "dw==" }));
  const large = await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 3, records: wideRecords });
  expect(large.status, JSON.stringify(large.body)).toBe(200);
  // A crashed committer's staged batch, older than the hole timeout: a reader writes its abort
  // (a void-shaped decision item) and steps over it.
  const wideRef = { topicId: (await storage.topics.get(wide))!.topicId, partition: 0 };
  const abandoned = (await storage.log.reserve(wideRef, 1, clock.now()))!;
  const attempt = uniqueName("iam-attempt");
  await storage.staged.stage(wideRef, { baseOffset: abandoned, count: 1, codec: "none", blob: new Uint8Array(0), maxTimestamp: 0 }, clock.now(), undefined, { attempt, startedAt: clock.now() - HOLE_TIMEOUT_MS - 1 });
  const pastAbandoned = await call("fetch", "GET", `/v1/topics/${wide}/partitions/0/records?offset=0&encoding=utf8`);
  expect(pastAbandoned.body["nextOffset"]).toBe(abandoned + 1);
  expect(await storage.staged.readDecision(attempt)).toBe("aborted");

  // Stale reads: readers collide with a batch their Query did not show (fetch, then admin).
  const fresh = topicName("iam-fresh");
  expect((await call("admin", "POST", "/v1/topics", { name: fresh, partitions: 2 })).status).toBe(201);
  for (const partition of [0, 0, 1, 1]) {
    expect((await call("produce", "POST", `/v1/topics/${fresh}/records`, { records: [{ value: "eA==", partition }] })).status).toBe(200);
  }
  clock.advance(HOLE_TIMEOUT_MS + 1);
  const freshId = (await storage.topics.get(fresh))!.topicId;
  hideFromLogQuery.set("fetch", { p: `${freshId}#0`, o: 1 });
  const stale = await call("fetch", "GET", `/v1/topics/${fresh}/partitions/0/records?offset=0`);
  expect((stale.body["records"] as unknown[]).length).toBe(2);
  expect(hideFromLogQuery.has("fetch")).toBe(false);
  // Partition 1: its high-watermark hint is still 0, so describe walks it (partition 0's hint was
  // raised by the fetch above).
  hideFromLogQuery.set("admin", { p: `${freshId}#1`, o: 1 });
  const staleDescribe = await call("admin", "GET", `/v1/topics/${fresh}`);
  expect((staleDescribe.body["partitions"] as { highWatermark: number }[]).map((p) => p.highWatermark)).toEqual([2, 2]);
  expect(hideFromLogQuery.has("admin")).toBe(false);

  expect((await call("commit", "POST", "/v1/groups/g1/offsets", { offsets: [{ topic, partition: 0, offset: 2 }] })).status).toBe(200);
  expect((await call("commit", "GET", `/v1/groups/g1/offsets?topic=${topic}`)).status).toBe(200);

  // Consumer groups: join, a member-fenced commit, offsets with a reset policy, list, describe, leave.
  const joined = await call("commit", "POST", "/v1/groups/g2/heartbeat", { memberEpoch: 0, topics: [topic] });
  expect(joined.status).toBe(200);
  const member = { memberId: joined.body["memberId"], memberEpoch: joined.body["memberEpoch"] };
  expect((await call("commit", "POST", "/v1/groups/g2/heartbeat", { ...member, topics: [topic] })).status).toBe(200);
  const fenced = await call("commit", "POST", "/v1/groups/g2/offsets", { ...member, offsets: [{ topic, partition: 0, offset: 1 }] });
  expect(fenced.status, JSON.stringify(fenced.body)).toBe(200);
  // A transaction's offsets fenced by the same member (KIP-447): a ConditionCheck on its item.
  const fencedTxn = await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 4, offsets: { group: "g2", ...member, offsets: [{ topic, partition: 1, offset: 1 }] } });
  expect(fencedTxn.status, JSON.stringify(fencedTxn.body)).toBe(200);
  // A reset policy makes the commit function a reader: a dead writer's gap (and a stale read) on
  // the way to the high watermark.
  const resetTopic = topicName("iam-reset");
  expect((await call("admin", "POST", "/v1/topics", { name: resetTopic, partitions: 2 })).status).toBe(201);
  for (const value of ["MQ==", "Mg=="]) expect((await call("produce", "POST", `/v1/topics/${resetTopic}/records`, { records: [{ value, partition: 0 }] })).status).toBe(200);
  const resetId = (await storage.topics.get(resetTopic))!.topicId;
  await storage.log.reserve({ topicId: resetId, partition: 0 }, 1, clock.now());
  clock.advance(HOLE_TIMEOUT_MS + 1);
  hideFromLogQuery.set("commit", { p: `${resetId}#0`, o: 1 });
  const latest = await call("commit", "GET", `/v1/groups/g3/offsets?topic=${resetTopic}&reset=latest`);
  expect(latest.status).toBe(200);
  expect(JSON.stringify(latest.body)).toContain('"position":3');
  expect(hideFromLogQuery.has("commit")).toBe(false);
  expect((await call("commit", "GET", `/v1/groups/g3/offsets?topic=${resetTopic}&reset=earliest`)).status).toBe(200);
  expect((await call("admin", "GET", "/v1/groups")).status).toBe(200);
  expect((await call("admin", "GET", "/v1/groups/g2")).status).toBe(200);
  expect((await call("commit", "DELETE", `/v1/groups/g2/members/${String(member.memberId)}`)).status).toBe(200);

  // The Upstash dialect (docs/upstash.md): the same core operations behind its own routes; a
  // consumer instance is a group member plus an item of its own in the offsets table.
  const produced = await call("produce", "POST", "/produce", [{ topic, value: "u1", partition: 0 }, { topic: fresh, value: "u2" }]);
  expect(produced.status, JSON.stringify(produced.body)).toBe(200);
  expect((await call("fetch", "POST", "/fetch", { topic, partition: 0, offset: 0, timeout: 100 })).status).toBe(200);
  for (const at of ["earliest", "latest", "1700000000"]) expect((await call("fetch", "POST", `/offsets/${at}`, [{ topic, partition: 0 }])).status).toBe(200);
  expect((await call("admin", "GET", "/topics")).status).toBe(200);
  for (let i = 0; i < 2; i++) {
    const consumed = await call("commit", "POST", "/consume/g-up/i1", { topic: fresh, timeout: 100 });
    expect(consumed.status, JSON.stringify(consumed.body)).toBe(200);
  }
  expect((await call("commit", "POST", "/commit/g-up/i1")).status).toBe(200);
  expect((await call("commit", "POST", "/committed/g-up/i1")).status).toBe(200);
  expect((await call("admin", "GET", "/consumers")).status).toBe(200);
  expect((await call("commit", "POST", "/delete-consumer/g-up/i1")).status).toBe(200);
  // Its curl forms, and a write named by an idempotency key (its state rides in the append's transaction).
  expect((await call("produce", "GET", `/produce/${topic}/u3?key=k`)).status).toBe(200);
  const keyed = { value: "u4", headers: [{ key: "Dynalog-Idempotency-Key", value: "iam-1" }] };
  for (let i = 0; i < 2; i++) expect((await call("produce", "POST", `/produce/${topic}`, keyed)).status).toBe(200);
  expect((await call("produce", "POST", `/webhook?topic=${topic}`, { event: "u5" })).status).toBe(200);
  expect((await call("commit", "GET", `/consume/g-up/i2/${fresh}?timeout=100`)).status).toBe(200);
  // Topic lifecycle: configs, more partitions, deleted records, a deleted (empty) group.
  expect((await call("admin", "GET", `/v1/topics/${topic}/configs`)).status).toBe(200);
  expect((await call("admin", "POST", `/v1/topics/${topic}/configs`, { retentionMs: 3_600_000 })).status).toBe(200);
  expect((await call("admin", "POST", `/v1/topics/${topic}/partitions`, { count: 3 })).status).toBe(200);
  const deletedRecords = await call("admin", "POST", `/v1/topics/${topic}/delete-records`, { partitions: [{ partition: 0, offset: 1 }] });
  expect(deletedRecords.status, JSON.stringify(deletedRecords.body)).toBe(200);
  const deletedGroup = await call("admin", "DELETE", "/v1/groups/g2");
  expect(deletedGroup.status, JSON.stringify(deletedGroup.body)).toBe(200);
  // A group with offsets only (no group item): the transaction checks that none appeared.
  expect((await call("admin", "DELETE", "/v1/groups/g1")).status).toBe(200);

  // Compaction (docs/compaction.md): one batch rewritten to fewer records, one emptied into a void, the checkpoint.
  const compacted = topicName("iam-compact");
  expect((await call("admin", "POST", "/v1/topics", { name: compacted, partitions: 1, cleanupPolicy: "compact" })).status).toBe(201);
  for (const records of [[{ key: "YQ==", value: "MQ==" }], [{ key: "YQ==", value: "Mg==" }, { key: "Yg==", value: "Mg==" }], [{ key: "YQ==", value: "Mw==" }]]) {
    expect((await call("produce", "POST", `/v1/topics/${compacted}/records`, { records })).status).toBe(200);
  }
  const compaction = await call("admin", "POST", `/v1/topics/${compacted}/compact`, {});
  expect(compaction.status, JSON.stringify(compaction.body)).toBe(200);
  expect(JSON.stringify(compaction.body)).toContain('"rewrittenBatches":2');

  // Push subscriptions: their own function manages them (the dispatcher's part is in iam-coverage-dispatcher.test.ts).
  const { name: subscription, webhook } = await createDeliveries(fx);
  // Starting at "latest" makes create a reader: a stale Query (a batch it did not show) sends it to
  // void a gap that is not one, read the entry its void collided with, and raise the hint.
  const gapTopic = topicName("iam-sub-gap");
  expect((await call("admin", "POST", "/v1/topics", { name: gapTopic, partitions: 1 })).status).toBe(201);
  for (const value of ["MQ==", "Mg=="]) expect((await call("produce", "POST", `/v1/topics/${gapTopic}/records`, { records: [{ value, partition: 0 }] })).status).toBe(200);
  clock.advance(HOLE_TIMEOUT_MS + 1);
  hideFromLogQuery.set("subscriptions", { p: `${(await storage.topics.get(gapTopic))!.topicId}#0`, o: 1 });
  const gone = await call("subscriptions", "POST", "/v1/subscriptions", { topic: gapTopic, startingPosition: "latest", name: `${subscription}-gone`, webhook: `${webhook.baseUrl}/gone` });
  expect(gone.status, JSON.stringify(gone.body)).toBe(201);
  expect(hideFromLogQuery.has("subscriptions")).toBe(false);
  expect((await call("subscriptions", "GET", "/v1/subscriptions")).status).toBe(200);
  expect((await call("subscriptions", "GET", `/v1/subscriptions/${subscription}`)).status).toBe(200);
  expect((await call("subscriptions", "POST", `/v1/subscriptions/${subscription}-gone/pause`)).status).toBe(200);
  expect((await call("subscriptions", "POST", `/v1/subscriptions/${subscription}-gone/resume`)).status).toBe(200);
  expect((await call("subscriptions", "POST", `/v1/subscriptions/${subscription}-gone/rotate-secret`, { gracePeriodMs: 60_000 })).status).toBe(200);
  // A partition state (a dispatcher's lease) for delete to remove after the definition (a batch delete).
  expect(await storage.subscriptions.acquireLease(`${subscription}-gone`, 0, "iam-dispatcher", clock.now(), clock.now() + 60_000)).toBeDefined();
  expect((await call("subscriptions", "DELETE", `/v1/subscriptions/${subscription}-gone`)).status).toBe(200);
  expect(await storage.subscriptions.partitions(`${subscription}-gone`)).toEqual([]);

  // History (docs/console.md): the samples the sampler kept (none here: the sampler's grant is tested beside the routes).
  expect((await call("admin", "GET", `/v1/topics/${topic}/history?minutes=5`)).status).toBe(200);
  expect((await call("admin", "GET", "/v1/groups/g-txn/history")).status).toBe(200);
  expect((await call("admin", "GET", "/v1/history/topics?minutes=5")).status).toBe(200);

  expect((await call("admin", "DELETE", `/v1/topics/${topic}`)).status).toBe(200);
}
