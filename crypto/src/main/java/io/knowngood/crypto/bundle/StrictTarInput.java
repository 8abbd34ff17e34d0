package io.knowngood.crypto.bundle;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * commons-compress, made strict where it is lenient: every header record must carry a correct
 * checksum (it parses without checking), and nothing but zeros may follow the first
 * end-of-archive record (records of 512 bytes, so it never skips a 10 KiB "block" unread).
 * It also keeps the names as stored in PAX {@code path} records and GNU long-name entries,
 * which commons-compress rewrites (it strips leading slashes) before handing them out.
 * Malformed input is always an {@link IOException}, never an unchecked exception.
 */
final class StrictTarInput extends TarArchiveInputStream {
    private final ByteArrayOutputStream extendedHeaders = new ByteArrayOutputStream();
    private final ByteArrayOutputStream globalHeaders = new ByteArrayOutputStream();
    private final List<String> longNames = new ArrayList<>();

    StrictTarInput(InputStream in) {
        super(in, TarConstants.DEFAULT_RCDSIZE, StandardCharsets.UTF_8.name()); // names are UTF-8, whatever the platform says
    }

    // commons-compress signals some malformed headers with unchecked exceptions: they are bad input, not bugs here.

    /** The next entry, or null at the end of the archive. */
    TarArchiveEntry nextEntry() throws IOException {
        try {
            forgetStoredNames();
            return getNextEntry();
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | IndexOutOfBoundsException e) {
            throw new IOException("unreadable tar header: " + e.getMessage(), e);
        }
    }

    /** Reads up to {@code len} bytes of the current entry's data; -1 at its end. */
    int readSome(byte[] b, int off, int len) throws IOException {
        try {
            return read(b, off, len);
        } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
            throw new IOException("unreadable tar entry: " + e.getMessage(), e);
        }
    }

    /** The next {@code size} bytes of the current entry's data. */
    byte[] readFully(int size) throws IOException {
        byte[] b = new byte[size];
        int off = 0;
        while (off < size) {
            int n = readSome(b, off, size - off);
            if (n < 0) {
                throw new IOException("entry is truncated");
            }
            off += n;
        }
        return b;
    }

    private void forgetStoredNames() {
        extendedHeaders.reset();
        longNames.clear();
    }

    /** The entry's name exactly as the archive stores it, where that differs from {@code e.getName()}. */
    String storedName(TarArchiveEntry e) throws IOException {
        for (String n : longNames) {
            if (!n.equals(e.getName())) {
                return n;
            }
        }
        String pax = paxPath(extendedHeaders.toByteArray());
        if (pax == null) {
            pax = paxPath(globalHeaders.toByteArray());
        }
        return pax != null ? pax : e.getName();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        TarArchiveEntry current = getCurrentEntry();
        if (n > 0 && current != null && current.isPaxHeader()) {
            extendedHeaders.write(b, off, n);
        } else if (n > 0 && current != null && current.isGlobalPaxHeader()) {
            globalHeaders.write(b, off, n);
        }
        return n;
    }

    @Override
    protected byte[] getLongNameData() throws IOException {
        boolean name = getCurrentEntry().isGNULongNameEntry();
        byte[] data = super.getLongNameData();
        if (name && data != null) {
            longNames.add(new String(data, StandardCharsets.UTF_8));
        }
        return data;
    }

    /** The value of the last {@code path} record in PAX extended header data ("LEN key=value\n"...), or null. */
    private static String paxPath(byte[] data) throws IOException {
        String path = null;
        int i = 0;
        while (i < data.length) {
            int len = 0;
            int j = i;
            while (j < data.length && data[j] >= '0' && data[j] <= '9' && len < data.length) {
                len = len * 10 + (data[j++] - '0');
            }
            if (j >= data.length || data[j] != ' ' || len <= j - i || i + len > data.length || data[i + len - 1] != '\n') {
                throw new IOException("malformed PAX extended header");
            }
            String record = new String(data, j + 1, i + len - 1 - (j + 1), StandardCharsets.UTF_8);
            if (record.startsWith("path=")) {
                path = record.substring("path=".length());
            }
            i += len;
        }
        return path;
    }

    @Override
    protected byte[] readRecord() throws IOException {
        boolean afterEnd = isAtEOF();
        byte[] r = super.readRecord();
        if (r != null && !isZeros(r)) {
            if (afterEnd) {
                throw new IOException("data after the end-of-archive marker");
            }
            if (!TarUtils.verifyCheckSum(r)) {
                throw new IOException("bad header checksum");
            }
        }
        return r;
    }

    private static boolean isZeros(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
