package io.knowngood.replication;

/**
 * The mesh records as anti-entropy sees them ({@link ReplicatedRecords} is one): with each round's
 * hash a member tells each peer the hash of its copy of that peer's own records, so a peer whose
 * write was lost on the way (Infinispan drops an asynchronous write a member cannot apply in time:
 * ISPN000638 "Timeout waiting for topology", seen in the rollout soak) writes them again.
 */
interface RecordsCheck {
  /** The hash of this node's copy of {@code member}'s own records, or null while that copy is not worth comparing. */
  byte[] copyHashOf(String member);

  /** {@code member}'s copy of this node's own records hashes to {@code hash}. */
  void checkedBy(String member, byte[] hash);
}
