package io.knowngood.crypto.bundle;

import java.io.IOException;
import java.util.List;

/**
 * Why a bundle was refused. Every variant carries the numbers and names that explain it, a stable
 * snake_case {@link #code()} for scripts, metrics and HTTP error bodies, and a one-line
 * {@link #detail()} for people.
 */
public sealed interface Rejection {
    String code();

    String detail();

    /**
     * Why {@code file} could not be read as JSON, as every reader of the bundle format says it: a key given
     * twice, or the parser's reason and position (one line).
     */
    static Rejection ofJson(String file, IOException e) {
        return ManifestCodec.jsonProblem(file, e);
    }

    /** Not a readable POSIX tar (truncated, bad header checksum, ...). */
    record MalformedArchive(String why) implements Rejection {
        public String code() { return "malformed_archive"; }
        public String detail() { return "not a valid bundle archive: " + why; }
    }

    /** Something is bigger than the configured limit allows; {@code what} names it. */
    record TooLarge(String what, long limit, long found) implements Rejection {
        public String code() { return "too_large"; }
        public String detail() { return what + " is too large: " + (found < 0 ? "more than " + limit : found) + " bytes, limit " + limit; }
    }

    record TooManyFiles(int limit, int found) implements Rejection {
        public String code() { return "too_many_files"; }
        public String detail() { return "manifest lists " + found + " files, limit " + limit; }
    }

    /** The archive has an entry where another (or none) belongs: wrong order or extra entry. */
    record UnexpectedEntry(String expected, String found) implements Rejection {
        public String code() { return "unexpected_entry"; }
        public String detail() { return "expected entry " + (expected == null ? "<end of archive>" : expected) + " but found " + found; }
    }

    record MissingEntry(String expected) implements Rejection {
        public String code() { return "missing_entry"; }
        public String detail() { return "archive ends before entry " + expected; }
    }

    /** Links, devices, directories, FIFOs: only regular files are allowed. */
    record ForbiddenEntryType(String entry, String type) implements Rejection {
        public String code() { return "forbidden_entry_type"; }
        public String detail() { return "entry " + entry + " is a " + type + "; only regular files are allowed"; }
    }

    record BadPath(String path, String why) implements Rejection {
        public String code() { return "bad_path"; }
        public String detail() { return "path " + printable(path) + " is not allowed: " + why; }
    }

    record MalformedJson(String file, String why) implements Rejection {
        public String code() { return "malformed_json"; }
        public String detail() { return file + " is not valid JSON: " + why; }
    }

    record DuplicateKey(String file, String key) implements Rejection {
        public String code() { return "duplicate_key"; }
        public String detail() { return file + " has the key \"" + key + "\" more than once"; }
    }

    record UnknownSchema(String found) implements Rejection {
        public String code() { return "unknown_schema"; }
        public String detail() { return "manifest schema " + found + " is not supported (supported: " + Manifest.SCHEMA + ")"; }
    }

    /** A manifest field is missing, of the wrong type, out of range or not known. */
    record InvalidManifest(String field, String why) implements Rejection {
        public String code() { return "invalid_manifest"; }
        public String detail() { return "manifest field " + field + ": " + why; }
    }

    record BadName(String name) implements Rejection {
        public String code() { return "bad_name"; }
        public String detail() { return "bundle name " + printable(name) + " does not match " + BundleName.RULE; }
    }

    /** The bundle is not the one it was offered as (e.g. a cache entry stored under another name). */
    record NameMismatch(String expected, String found) implements Rejection {
        public String code() { return "name_mismatch"; }
        public String detail() { return "offered as " + expected + " but the signed manifest says " + found; }
    }

    record SizeMismatch(String path, long expected, long found) implements Rejection {
        public String code() { return "size_mismatch"; }
        public String detail() { return "file " + path + " has " + found + " bytes, manifest says " + expected; }
    }

    record HashMismatch(String path, String expected, String found) implements Rejection {
        public String code() { return "hash_mismatch"; }
        public String detail() { return "file " + path + " has sha256 " + found + ", manifest says " + expected; }
    }

    /** signatures.json entry that cannot be a valid signature: bad base64, wrong length, bad key id. */
    record MalformedSignature(int index, String why) implements Rejection {
        public String code() { return "malformed_signature"; }
        public String detail() { return "signature #" + index + " is malformed: " + why; }
    }

    /** No signature was made by a key this verifier trusts. */
    record UntrustedKey(List<String> keyIds) implements Rejection {
        public UntrustedKey {
            keyIds = List.copyOf(keyIds);
        }
        public String code() { return "untrusted_key"; }
        public String detail() { return keyIds.isEmpty() ? "bundle has no signatures" : "signed only by untrusted keys " + keyIds; }
    }

    /** A trusted key's signature does not match the manifest bytes. */
    record BadSignature(String keyId) implements Rejection {
        public String code() { return "bad_signature"; }
        public String detail() { return "signature by trusted key " + keyId + " does not verify over manifest.json"; }
    }

    /** Not above the highest version of this name ever accepted. */
    record Rollback(String name, long current, long offered) implements Rejection {
        public String code() { return "rollback"; }
        public String detail() { return name + " version " + offered + " is not newer than " + current + ", the highest ever accepted"; }
    }

    private static String printable(String s) {
        if (s == null) {
            return "<none>";
        }
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().limit(200).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }
}
