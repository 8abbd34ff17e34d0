package io.knowngood.replication;

/** What {@link LocalBundles#offer} did with a bundle. */
public sealed interface Admission {
  /** Stored durably (and now served). */
  record Stored(long version) implements Admission {}

  /** Not stored, e.g. not newer than the node's durable rollback floor. */
  record Ignored(String reason) implements Admission {}
}
