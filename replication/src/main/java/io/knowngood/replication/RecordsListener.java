package io.knowngood.replication;

import org.infinispan.notifications.Listener;
import org.infinispan.notifications.cachelistener.annotation.CacheEntryCreated;
import org.infinispan.notifications.cachelistener.annotation.CacheEntryModified;
import org.infinispan.notifications.cachelistener.annotation.CacheEntryRemoved;
import org.infinispan.notifications.cachelistener.annotation.DataRehashed;
import org.infinispan.notifications.cachelistener.annotation.TopologyChanged;
import org.infinispan.notifications.cachelistener.event.CacheEntryEvent;
import org.infinispan.notifications.cachelistener.event.DataRehashedEvent;
import org.infinispan.notifications.cachelistener.event.TopologyChangedEvent;

/** Hands changes of the records cache to {@link ReplicatedRecords} (asynchronously; it re-reads the local copy). */
@Listener(sync = false)
public final class RecordsListener {
  private final ReplicatedRecords records;

  RecordsListener(ReplicatedRecords records) {
    this.records = records;
  }

  @CacheEntryCreated
  @CacheEntryModified
  @CacheEntryRemoved
  public void changed(CacheEntryEvent<Object, Object> e) {
    if (!e.isPre()) {
      records.cacheChanged(e.getKey(), e.isOriginLocal());
    }
  }

  @DataRehashed
  public void rehashed(DataRehashedEvent<Object, Object> e) {
    if (!e.isPre()) {
      records.rescanSoon();
    }
  }

  @TopologyChanged
  public void topology(TopologyChangedEvent<Object, Object> e) {
    if (!e.isPre()) {
      records.membershipChanged();
    }
  }
}
