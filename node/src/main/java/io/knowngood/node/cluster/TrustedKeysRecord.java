package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.replication.MeshRecords;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The publisher keys a member trusts (its {@code --trust-key} files), shared as that member's own mesh
 * record {@value #KEY}: their key ids, lower-case hex, sorted, one per line (no keys: an empty record).
 * {@code /v1/cluster} and {@code kgctl status} compare them across the members, which is what each step
 * of a publisher key rotation needs to see: the new key trusted everywhere before bundles are signed
 * with it alone, the old one gone everywhere after.
 *
 * <p>A peer's record is read as sent: it says what that member claims to trust, and grants nothing.
 */
public record TrustedKeysRecord(List<String> keyIds) {

    public static final String KEY = "trust/publisher-keys";
    /** At most this many key ids are shared (65 bytes each: well inside a record's 16 KiB). */
    static final int MAX_KEYS = 200;
    private static final Pattern HEX64 = Pattern.compile("^[0-9a-f]{64}$");

    public TrustedKeysRecord {
        keyIds = List.copyOf(new TreeSet<>(keyIds));
    }

    public static TrustedKeysRecord of(Collection<KeyId> trusted) {
        return new TrustedKeysRecord(trusted.stream().map(KeyId::hex).toList());
    }

    public byte[] encode() {
        return String.join("\n", keyIds).getBytes(StandardCharsets.US_ASCII);
    }

    /** A record as a peer sent it; empty if it is not one (a line that is no key id, or too many of them). */
    public static Optional<TrustedKeysRecord> decode(byte[] value) {
        if (value == null || value.length > MAX_KEYS * 65) {
            return Optional.empty();
        }
        String text = new String(value, StandardCharsets.US_ASCII);
        if (text.isEmpty()) {
            return Optional.of(new TrustedKeysRecord(List.of()));
        }
        List<String> ids = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (!HEX64.matcher(line).matches()) {
                return Optional.empty();
            }
            ids.add(line);
        }
        return Optional.of(new TrustedKeysRecord(ids));
    }

    /** Puts this member's record (the mesh re-asserts it after every view change). Empty when it was stored, else why not. */
    public Optional<String> share(MeshRecords records) {
        if (keyIds.size() > MAX_KEYS) {
            return Optional.of(keyIds.size() + " trusted publisher keys, over the " + MAX_KEYS + " a record holds");
        }
        MeshRecords.PutResult r = records.putOwn(KEY, encode());
        return r == MeshRecords.PutResult.STORED || r == MeshRecords.PutResult.UNCHANGED ? Optional.empty()
                : Optional.of("the record was refused: " + r);
    }

    /** member id -> the key ids it trusts, for each member (this one included) whose record is here and valid; sorted by id. */
    public static Map<String, List<String>> members(MeshRecords records) {
        return members(records.of(KEY));
    }

    /** The same, of the records under {@value #KEY} (member id -> value) as {@link MeshRecords#of} gives them. */
    static Map<String, List<String>> members(Map<String, byte[]> records) {
        Map<String, List<String>> out = new TreeMap<>();
        records.forEach((member, value) -> decode(value).ifPresent(r -> out.put(member, r.keyIds())));
        return out;
    }
}
