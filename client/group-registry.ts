/**
 * The running group consumers of one Dynalog (Kafka) instance, by group id.
 *
 * Why: a transaction commits consumer offsets, and while a group has live members the broker
 * takes them only from a member (memberId + memberEpoch: KIP-447 fencing — a member that lost its
 * partitions cannot commit them). KafkaJS programs name only the group
 * (`sendOffsets({ consumerGroupId, topics })`), so the transaction finds the group's consumer here,
 * as Kafka's Java client hands `consumer.groupMetadata()` to `sendOffsetsToTransaction`.
 */

/** What a consumer offers a transaction for fencing: see `Consumer.groupMetadata()`. */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  /** Undefined while the consumer is not a member (not joined yet, or fenced). */
  readonly memberId: string | undefined;
  /**
   * The member epoch (KIP-848). It plays the part of the classic protocol's generation id: commits
   * carry it and the broker refuses a stale one. KafkaJS events call it `groupGenerationId`.
   */
  readonly memberEpoch: number;
}

export interface GroupMetadataSource {
  groupMetadata(): ConsumerGroupMetadata;
}

/** A running consumer as the registry sees it. */
export interface RegisteredConsumer extends GroupMetadataSource {
  readonly groupId: string;
  /** Does it own this partition right now? */
  owns(topic: string, partition: number): boolean;
}

export class ConsumerRegistry {
  private readonly byGroup = new Map<string, Set<RegisteredConsumer>>();

  add(consumer: RegisteredConsumer): void {
    let set = this.byGroup.get(consumer.groupId);
    if (!set) this.byGroup.set(consumer.groupId, (set = new Set()));
    set.add(consumer);
  }

  delete(consumer: RegisteredConsumer): void {
    const set = this.byGroup.get(consumer.groupId);
    set?.delete(consumer);
    if (set?.size === 0) this.byGroup.delete(consumer.groupId);
  }

  /**
   * The consumer whose membership should fence a commit of these partitions: one that owns them
   * all, else one that is a member now, else any running one (whose missing membership the
   * transaction reports). Undefined when no consumer of the group runs on this instance.
   */
  memberFor(groupId: string, partitions: readonly { readonly topic: string; readonly partition: number }[]): RegisteredConsumer | undefined {
    const running = [...(this.byGroup.get(groupId) ?? [])];
    const isMember = (c: RegisteredConsumer) => c.groupMetadata().memberId !== undefined;
    return (
      running.find((c) => isMember(c) && partitions.every((p) => c.owns(p.topic, p.partition))) ??
      running.find(isMember) ??
      running[0]
    );
  }
}
