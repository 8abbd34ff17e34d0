package io.knowngood.node.logs;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.io.IOException;
import org.slf4j.Marker;

/**
 * Drops one benign JGroups warning: {@code failed handling message} with {@code IOException: Stream
 * closed}, logged with a stack trace by the mesh transport's receiver thread when its connection was
 * closed locally while the thread was between two buffered reads (JGRP-3023: JGroups already ignores
 * the same close when the thread is inside the socket read; fixed upstream after 5.5.7, which this
 * node does not use). bin/demo's nodes logged it while joining, and log-based alerting pages on a WARN
 * with a stack trace. Any other exception with that message, and the same exception from any other
 * logger, is logged as before.
 */
final class StreamClosedRace extends TurboFilter {
    static final String MESSAGE = "failed handling message";
    static final String TRANSPORT = "io.knowngood.replication.DirectionalTcp";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        return level == Level.WARN && MESSAGE.equals(format) && TRANSPORT.equals(logger.getName())
                && t != null && t.getClass() == IOException.class && "Stream closed".equals(t.getMessage())
                ? FilterReply.DENY : FilterReply.NEUTRAL;
    }
}
