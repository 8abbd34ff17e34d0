package io.knowngood.crypto.bundle;

import java.io.IOException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * What each tar entry of a bundle must be: a regular file (no links, devices, directories or
 * sparse files), named exactly as the format puts it at that place ({@code manifest.json},
 * {@code signatures.json}, then {@code files/<path>} in manifest order), under a path
 * {@link BundlePaths} allows. Names are judged as stored, not as commons-compress rewrites them.
 */
final class EntryRules {
    static final String MANIFEST = "manifest.json";
    static final String SIGNATURES = "signatures.json";
    static final String FILES = "files/";

    private EntryRules() {
    }

    /** Why {@code e} (null: the archive ended) is not the entry {@code expected}, or null when it is. */
    static Rejection expect(StrictTarInput tar, TarArchiveEntry e, String expected) throws IOException {
        if (e == null) {
            return new Rejection.MissingEntry(expected);
        }
        String type = forbiddenType(e);
        if (type != null) {
            return new Rejection.ForbiddenEntryType(e.getName(), type);
        }
        String stored = tar.storedName(e);
        if (!stored.equals(expected)) {
            return entryProblem(stored, expected);
        }
        return null;
    }

    /** Why an entry named {@code stored} after the last file is refused: a bad path, or simply extra. */
    static Rejection afterTheLastFile(String stored) {
        return entryProblem(stored, null);
    }

    private static Rejection entryProblem(String name, String expected) {
        String inner = name.startsWith(FILES) ? name.substring(FILES.length()) : name;
        String problem = BundlePaths.problem(inner);
        if (problem != null) {
            return new Rejection.BadPath(name, problem);
        }
        return new Rejection.UnexpectedEntry(expected, name);
    }

    /** What kind of forbidden entry {@code e} is, or null for a plain regular file. */
    static String forbiddenType(TarArchiveEntry e) {
        byte flag = e.getLinkFlag();
        if (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM) {
            if (e.isSparse()) {
                return "sparse file";
            }
            return null;
        }
        if (e.isSymbolicLink()) {
            return "symbolic link";
        }
        if (e.isLink()) {
            return "hard link";
        }
        if (e.isCharacterDevice()) {
            return "character device";
        }
        if (e.isBlockDevice()) {
            return "block device";
        }
        if (e.isFIFO()) {
            return "FIFO";
        }
        if (e.isDirectory()) {
            return "directory";
        }
        return "entry of type '" + (char) flag + "'";
    }
}
