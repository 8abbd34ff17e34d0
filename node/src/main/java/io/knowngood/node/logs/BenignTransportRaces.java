package io.knowngood.node.logs;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Marker;

/**
 * Drops two benign JGroups events of the mesh transport's logger, each logged with a stack trace,
 * which log-based alerting would page on:
 * <ul>
 *   <li>WARN {@code failed handling message} with {@code IOException: Stream closed}: a connection closed
 *   locally while its receiver thread was between two buffered reads (JGRP-3023; JGroups already ignores
 *   the same close when the thread is inside the socket read; fixed upstream after 5.5.7, which this node
 *   does not use). bin/demo's nodes logged it while joining.</li>
 *   <li>ERROR {@code failed processing batch} with a {@code RejectedExecutionException} from a terminated
 *   pool: a peer's failure-detection message that arrived while this node's stack was stopping (its
 *   VERIFY_SUSPECT2 pool already shut down). bin/demo's nodes logged it when all three stopped at once.</li>
 * </ul>
 * Any other exception with those messages, and the same exceptions from any other logger, are logged as
 * before.
 */
final class BenignTransportRaces extends TurboFilter {
    static final String TRANSPORT = "io.knowngood.replication.DirectionalTcp";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (t == null || !TRANSPORT.equals(logger.getName())) {
            return FilterReply.NEUTRAL;
        }
        boolean streamClosed = level == Level.WARN && "failed handling message".equals(format) && t.getClass() == IOException.class
                && "Stream closed".equals(t.getMessage());
        boolean stopping = level == Level.ERROR && "failed processing batch".equals(format) && t instanceof RejectedExecutionException
                && t.getMessage() != null && t.getMessage().contains("[Terminated");
        return streamClosed || stopping ? FilterReply.DENY : FilterReply.NEUTRAL;
    }
}
