package io.knowngood.replication;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many messages, and how many wire bytes, may wait in anti-entropy's queue. Thread-safe:
 * JGroups delivers from several threads at once. One message is always let in when nothing waits,
 * whatever its size, so a single large archive is never refused for being large.
 */
final class MessageBudget {
  private final int maxMessages;
  private final long maxBytes;
  private final AtomicInteger messages = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();

  MessageBudget(int maxMessages, long maxBytes) {
    if (maxMessages < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("budget must be positive");
    }
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  /** Takes room for a message of {@code size} bytes; false (nothing taken) when the budget is spent. */
  boolean tryTake(int size) {
    if (messages.incrementAndGet() > maxMessages) {
      messages.decrementAndGet();
      return false;
    }
    long before = bytes.getAndAdd(size);
    if (before > 0 && before + size > maxBytes) {
      bytes.addAndGet(-size);
      messages.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Gives back the room of a message taken off the queue. */
  void release(int size) {
    bytes.addAndGet(-size);
    messages.decrementAndGet();
  }

  int messages() {
    return messages.get();
  }

  long bytes() {
    return bytes.get();
  }
}
