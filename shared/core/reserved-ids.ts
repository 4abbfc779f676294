/**
 * Transactional ids the broker keeps for itself. A push subscription's exactly-once dispatcher
 * fences zombies by bumping the epoch of `sub:<name>:<partition>` (dispatch-exactly-once.ts); a
 * caller who could init the same id through the API would fence the dispatcher in turn and stall
 * delivery. Nothing the caller committed could touch the subscription's offsets (the id's producer
 * id is bound to the dispatcher's principal), but the stall alone is reason to refuse the name.
 */
export const SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX = "sub:";

export function isReservedTransactionalId(transactionalId: string): boolean {
  return transactionalId.startsWith(SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX);
}
