package io.knowngood.node.http;

import io.knowngood.api.ApiJson;
import io.knowngood.api.AuditList;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin audit log: one JSON line per publish or control in {@code <data-dir>/audit.log}, appended
 * and forced to disk before the answer is sent, so an answered publish is always on record. The file
 * is rotated to {@code audit.log.1} (one old file kept) when it passes {@link #MAX_FILE_BYTES}, so a
 * flood of refused requests cannot fill the disk. The newest {@link AuditList#MAX_LIMIT} entries are
 * also held in memory for {@code GET /v1/audit}; at start they are read back from the file. A failed
 * write is logged as an ERROR and counted; the request it records has already been decided.
 */
public final class AuditLog {

    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    public static final long MAX_FILE_BYTES = 16L * 1024 * 1024;

    private final Path file;
    private final Deque<AuditList.Entry> recent = new ArrayDeque<>();
    private long failures;

    private AuditLog(Path file) {
        this.file = file;
    }

    /** The log at {@code file}, with the newest entries already there read back. */
    public static AuditLog open(Path file) {
        AuditLog log = new AuditLog(file);
        if (Files.isRegularFile(file)) {
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                for (String line : lines.subList(Math.max(0, lines.size() - AuditList.MAX_LIMIT), lines.size())) {
                    if (ApiJson.decode(line.getBytes(StandardCharsets.UTF_8), AuditList.Entry.class) instanceof ApiJson.Decoded.Body<AuditList.Entry> e) {
                        log.remember(e.value());
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("cannot read the audit log {} back ({}); GET /v1/audit starts empty, the file is appended to", file, e.toString());
            }
        }
        return log;
    }

    /**
     * The entry as the node's log shows it: {@code audit: publish 201 web@7 by ci from 10.0.0.5: created DIGEST}.
     * What an entry lacks is left out (a refused publish has no version or digest), not printed as "null".
     */
    static String logLine(AuditList.Entry e) {
        StringBuilder b = new StringBuilder("audit: ").append(e.action()).append(' ').append(e.status()).append(' ')
                .append(e.name() == null ? "-" : e.name());
        if (e.version() != null) {
            b.append('@').append(e.version());
        }
        b.append(" by ").append(e.token()).append(" from ").append(e.source()).append(": ").append(e.outcome());
        if (e.digest() != null) {
            b.append(' ').append(e.digest());
        }
        return b.toString();
    }

    /** Appends {@code e} (durably) and keeps it for {@link #newest}. */
    public synchronized void record(AuditList.Entry e) {
        remember(e);
        LOG.info("{}", logLine(e));
        byte[] line = ApiJson.encode(e); // one line: compact JSON, control characters escaped, a final newline
        try {
            if (Files.isRegularFile(file) && Files.size(file) + line.length > MAX_FILE_BYTES) {
                Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                ByteBuffer b = ByteBuffer.wrap(line);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
        } catch (IOException ex) {
            failures++;
            LOG.error("cannot append to the audit log {}: {} (entry kept in memory only: {})", file, ex.toString(), e);
        }
    }

    /** The newest {@code limit} entries, oldest first. */
    public synchronized List<AuditList.Entry> newest(int limit) {
        return newest(limit, null);
    }

    /**
     * The newest {@code limit} entries about bundle {@code name} ({@code null}: about any), oldest
     * first, among the {@link AuditList#MAX_LIMIT} newest entries held.
     */
    public synchronized List<AuditList.Entry> newest(int limit, String name) {
        List<AuditList.Entry> all = new ArrayList<>(recent.size());
        for (AuditList.Entry e : recent) {
            if (name == null || name.equals(e.name())) {
                all.add(e);
            }
        }
        return List.copyOf(all.subList(Math.max(0, all.size() - limit), all.size()));
    }

    /** Appends that failed since start. */
    public synchronized long failures() {
        return failures;
    }

    private void remember(AuditList.Entry e) {
        recent.addLast(e);
        while (recent.size() > AuditList.MAX_LIMIT) {
            recent.removeFirst();
        }
    }
}
