package io.knowngood.replication;

import org.infinispan.notifications.Listener;
import org.infinispan.notifications.cachelistener.annotation.CacheEntryCreated;
import org.infinispan.notifications.cachelistener.annotation.CacheEntryModified;
import org.infinispan.notifications.cachelistener.annotation.DataRehashed;
import org.infinispan.notifications.cachelistener.event.CacheEntryEvent;
import org.infinispan.notifications.cachelistener.event.DataRehashedEvent;

/** Hands every change that reached this node's cache copy to {@link Ingest} (asynchronously: verifying is slow). */
@Listener(sync = false)
public final class BundleListener {
  private final Ingest ingest;

  BundleListener(Ingest ingest) {
    this.ingest = ingest;
  }

  @CacheEntryCreated
  @CacheEntryModified
  public void changed(CacheEntryEvent<String, byte[]> e) {
    if (!e.isPre() && !e.isOriginLocal() && e.getKey() instanceof String) {
      ingest.cacheEntryChanged(e.getKey(), e.getValue(), "replication");
    }
  }

  @DataRehashed
  public void rehashed(DataRehashedEvent<String, byte[]> e) {
    if (!e.isPre()) {
      ingest.fullScan("state-transfer");
    }
  }
}
