package io.knowngood.replication;

import io.knowngood.crypto.bundle.VerifiedBundle;

/**
 * A publish under way ({@link Mesh#send}): what was sent, until when {@link Mesh#awaitHolders} waits
 * ({@link System#nanoTime()} scale), and whether anything left (a mesh not connected sends nothing).
 */
public record Publishing(VerifiedBundle bundle, long deadlineNanos, boolean sent) {}
