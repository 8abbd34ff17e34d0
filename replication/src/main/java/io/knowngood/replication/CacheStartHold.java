package io.knowngood.replication;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A seam that holds a cache start attempt after the channel has connected (anti-entropy running) and
 * the cache manager has started, before the bundles cache starts: how tests make the restart hang of
 * docs/replication.md ("Rejoin") happen on demand. In production it is {@link #NONE}, or the failpoint
 * {@value #FAILPOINT} (a JVM system property, milliseconds, read once by {@link #fromSystemProperty})
 * that the chaos regression test sets on a real node: it holds the first attempt only.
 */
@FunctionalInterface
interface CacheStartHold {
  String FAILPOINT = "knowngood.failpoint.cacheStartDelayMs";

  CacheStartHold NONE = (nodeId, attempt) -> {};

  /** Called on the attempt's thread; an interrupt means the attempt was abandoned or the mesh closed. */
  void hold(String nodeId, int attempt) throws InterruptedException;

  /** {@value #FAILPOINT}=N holds the first attempt N ms; unset, zero or unparsable (logged) means none. */
  static CacheStartHold fromSystemProperty() {
    Logger log = LoggerFactory.getLogger(CacheStartHold.class);
    String raw = System.getProperty(FAILPOINT);
    if (raw == null || raw.isBlank()) {
      return NONE;
    }
    long ms;
    try {
      ms = Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      log.warn("{}={} is not a number of milliseconds: ignored", FAILPOINT, raw);
      return NONE;
    }
    if (ms <= 0) {
      return NONE;
    }
    return (nodeId, attempt) -> {
      if (attempt == 1) {
        log.info("{}: failpoint {}={}: holding the cache start {} ms (channel connected, anti-entropy running)", nodeId,
            FAILPOINT, ms, ms);
        TimeUnit.MILLISECONDS.sleep(ms);
      }
    };
  }
}
