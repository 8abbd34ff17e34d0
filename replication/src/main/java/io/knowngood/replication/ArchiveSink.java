package io.knowngood.replication;

import java.util.function.Consumer;

/**
 * Where anti-entropy hands what it pulled, and whom it asks to re-examine the local copies
 * ({@link Ingest} implements it). Anti-entropy knows only this, so no class calls back into its caller.
 */
interface ArchiveSink {
  /** An archive pulled from {@code member}; {@code verified} gets whether it verified (after any store). */
  void archiveReceived(String name, byte[] archive, String member, Consumer<Boolean> verified);

  /** Examine every local cache copy and every stored name; {@code source} names why, for logs and metrics. */
  void fullScan(String source);
}
