package io.knowngood.crypto.bundle;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * manifest.json and signatures.json: the canonical writer (keys sorted, no whitespace) and the
 * strict reader (duplicate keys, unknown fields, wrong types and bad values are typed rejections).
 * The manifest's {@code rollout} object has one reader, used for manifests and, alone, for
 * {@link RolloutPolicy#parseJson}; {@link SignedJson} lends the signature code to rollout controls.
 */
final class ManifestCodec {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();
    private static final Set<String> MANIFEST_FIELDS =
            Set.of("schema", "name", "version", "created", "expires", "files", "labels", "retired", "rollout",
                    "pools");
    private static final Set<String> ROLLOUT_FIELDS = Set.of("waves", "promote_ok", "promote_after_s", "revert_failed");
    private static final Set<String> WAVE_KINDS = Set.of("hosts", "labels", "percent");
    private static final Set<String> FILE_FIELDS = Set.of("path", "size", "sha256", "encrypted");
    private static final Set<String> SIGNATURE_FIELDS = Set.of("keyid", "sig");
    /** Jackson's note that it does not show the input ("[Source: REDACTED (...); line: 1, ..."): only the position is kept. */
    private static final Pattern JACKSON_SOURCE = Pattern.compile("\\[Source: [^;\\]]*; ");
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate (?:field|Object property) ['\"]([^'\"]*)['\"]");
    private static final Pattern RFC3339_UTC = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z");

    private ManifestCodec() {
    }

    /** Parsed manifest, or why not. Exactly one of the two fields is set. */
    record ParsedManifest(Manifest manifest, Rejection rejection) {
    }

    record Signature(KeyId keyId, byte[] sig) {
    }

    record ParsedSignatures(List<Signature> signatures, Rejection rejection) {
    }

    // ---- writing ----

    static byte[] write(Manifest m) {
        ObjectNode root = JSON.createObjectNode();
        // insertion order is output order: keep every object's keys in sorted order
        root.put("created", rfc3339(m.created()));
        m.expires().ifPresent(e -> root.put("expires", rfc3339(e)));
        ArrayNode files = root.putArray("files");
        for (FileEntry f : m.files()) {
            ObjectNode o = files.addObject();
            f.encrypted().ifPresent(e -> o.put("encrypted", e));
            o.put("path", f.path());
            o.put("sha256", f.sha256());
            o.put("size", f.size());
        }
        if (!m.labels().isEmpty()) {
            ObjectNode labels = root.putObject("labels");
            new TreeMap<>(m.labels()).forEach(labels::put);
        }
        root.put("name", m.name());
        if (!m.pools().isEmpty()) {
            ArrayNode pools = root.putArray("pools");
            m.pools().forEach(pools::add);
        }
        if (m.retired()) {
            root.put("retired", true);
        }
        m.rollout().ifPresent(r -> writeRollout(r, root.putObject("rollout")));
        root.put("schema", m.schema());
        root.put("version", m.version());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing a tree of strings and numbers cannot fail", e);
        }
    }

    /** Every count written out, defaults too, so the signed bytes say exactly what applies. */
    private static void writeRollout(RolloutPolicy r, ObjectNode o) {
        o.put("promote_after_s", r.promoteAfterSeconds());
        o.put("promote_ok", r.promoteOk());
        o.put("revert_failed", r.revertFailed());
        ArrayNode waves = o.putArray("waves");
        for (RolloutPolicy.Wave w : r.waves()) {
            ObjectNode wave = waves.addObject();
            if (w instanceof RolloutPolicy.Hosts h) {
                ArrayNode hosts = wave.putArray("hosts");
                h.hosts().forEach(hosts::add);
            } else if (w instanceof RolloutPolicy.Labels l) {
                ObjectNode labels = wave.putObject("labels");
                new TreeMap<>(l.labels()).forEach(labels::put);
            } else if (w instanceof RolloutPolicy.Percent p) {
                wave.put("percent", p.percent());
            }
        }
    }

    static byte[] writeSignatures(List<Signature> signatures) {
        try {
            return JSON.writeValueAsBytes(signaturesNode(signatures));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ArrayNode signaturesNode(List<Signature> signatures) {
        ArrayNode arr = JSON.createArrayNode();
        for (Signature s : signatures) {
            ObjectNode o = arr.addObject();
            o.put("keyid", s.keyId().hex());
            o.put("sig", Base64.getEncoder().encodeToString(s.sig()));
        }
        return arr;
    }

    static String rfc3339(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t);
    }

    // ---- reading ----

    static ParsedManifest read(byte[] bytes, Limits limits) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            return new ParsedManifest(null, jsonProblem("manifest.json", e));
        }
        if (root == null || !root.isObject()) {
            return fail(new Rejection.MalformedJson("manifest.json", "not a JSON object"));
        }
        JsonNode schema = root.get("schema");
        if (schema == null) {
            return fail(new Rejection.InvalidManifest("schema", "missing"));
        }
        if (!schema.isInt() || schema.intValue() != Manifest.SCHEMA) {
            return fail(new Rejection.UnknownSchema(schema.toString()));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!MANIFEST_FIELDS.contains(field)) {
                return fail(new Rejection.InvalidManifest(field, "unknown field"));
            }
        }
        JsonNode name = root.get("name");
        if (name == null || !name.isTextual()) {
            return fail(new Rejection.InvalidManifest("name", "missing or not a string"));
        }
        if (!BundleName.isValid(name.textValue())) {
            return fail(new Rejection.BadName(name.textValue()));
        }
        JsonNode version = root.get("version");
        if (version == null || !version.isIntegralNumber() || !version.canConvertToLong() || version.longValue() < 1) {
            return fail(new Rejection.InvalidManifest("version", "must be an integer from 1 to 2^63-1, found " + version));
        }
        Instant created = instant(root, "created");
        if (created == null) {
            return fail(new Rejection.InvalidManifest("created", "missing or not an RFC 3339 UTC time"));
        }
        Optional<Instant> expires = Optional.empty();
        if (root.has("expires")) {
            Instant e = instant(root, "expires");
            if (e == null) {
                return fail(new Rejection.InvalidManifest("expires", "not an RFC 3339 UTC time"));
            }
            expires = Optional.of(e);
        }
        boolean retired = false;
        if (root.has("retired")) {
            if (!root.get("retired").isBoolean()) {
                return fail(new Rejection.InvalidManifest("retired", "must be true or false"));
            }
            retired = root.get("retired").booleanValue();
        }
        Map<String, String> labels = new TreeMap<>();
        if (root.has("labels")) {
            JsonNode l = root.get("labels");
            if (!l.isObject()) {
                return fail(new Rejection.InvalidManifest("labels", "must be an object of strings"));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = l.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    return fail(new Rejection.InvalidManifest("labels." + e.getKey(), "must be a string"));
                }
                labels.put(e.getKey(), e.getValue().textValue());
            }
        }
        JsonNode filesNode = root.get("files");
        if (filesNode == null || !filesNode.isArray()) {
            return fail(new Rejection.InvalidManifest("files", "missing or not a list"));
        }
        if (filesNode.size() > limits.maxFiles()) {
            return fail(new Rejection.TooManyFiles(limits.maxFiles(), filesNode.size()));
        }
        List<FileEntry> files = new ArrayList<>(filesNode.size());
        Set<String> paths = new HashSet<>();
        long total = 0;
        for (int i = 0; i < filesNode.size(); i++) {
            JsonNode f = filesNode.get(i);
            String where = "files[" + i + "]";
            if (!f.isObject()) {
                return fail(new Rejection.InvalidManifest(where, "not an object"));
            }
            for (Iterator<String> it = f.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!FILE_FIELDS.contains(field)) {
                    return fail(new Rejection.InvalidManifest(where + "." + field, "unknown field"));
                }
            }
            JsonNode path = f.get("path");
            if (path == null || !path.isTextual()) {
                return fail(new Rejection.InvalidManifest(where + ".path", "missing or not a string"));
            }
            String problem = BundlePaths.problem(path.textValue());
            if (problem != null) {
                return fail(new Rejection.BadPath(path.textValue(), problem));
            }
            if (!paths.add(path.textValue())) {
                return fail(new Rejection.InvalidManifest(where + ".path", "duplicate path " + path.textValue()));
            }
            JsonNode size = f.get("size");
            if (size == null || !size.isIntegralNumber() || !size.canConvertToLong() || size.longValue() < 0) {
                return fail(new Rejection.InvalidManifest(where + ".size", "must be a non-negative integer"));
            }
            if (size.longValue() > limits.maxFileBytes()) {
                return fail(new Rejection.TooLarge("file " + path.textValue(), limits.maxFileBytes(), size.longValue()));
            }
            total += size.longValue();
            if (total > limits.maxBundleBytes()) {
                return fail(new Rejection.TooLarge("bundle content", limits.maxBundleBytes(), total));
            }
            JsonNode sha = f.get("sha256");
            if (sha == null || !sha.isTextual() || !Sha256.isHex(sha.textValue())) {
                return fail(new Rejection.InvalidManifest(where + ".sha256", "must be 64 lower-case hex characters"));
            }
            Optional<String> encrypted = Optional.empty();
            if (f.has("encrypted")) {
                JsonNode e = f.get("encrypted");
                if (!e.isTextual() || !FileEntry.AGE.equals(e.textValue())) {
                    return fail(new Rejection.InvalidManifest(where + ".encrypted", "must be \"" + FileEntry.AGE + "\""));
                }
                encrypted = Optional.of(FileEntry.AGE);
            }
            files.add(new FileEntry(path.textValue(), size.longValue(), sha.textValue(), encrypted));
        }
        if (retired && !files.isEmpty()) {
            return fail(new Rejection.InvalidManifest("retired", "a retired version must have no files"));
        }
        Optional<RolloutPolicy> rollout = Optional.empty();
        if (root.has("rollout")) {
            if (retired) {
                return fail(new Rejection.InvalidManifest("rollout", "a retired version has no rollout"));
            }
            RolloutRead r = readRollout(root.get("rollout"));
            if (r.policy() == null) {
                return fail(new Rejection.InvalidManifest(r.field().isEmpty() ? "rollout" : "rollout." + r.field(), r.why()));
            }
            rollout = Optional.of(r.policy());
        }
        List<String> pools = List.of();
        if (root.has("pools")) {
            JsonNode p = root.get("pools");
            if (!p.isArray() || p.isEmpty() || p.size() > PoolName.MAX_PER_MANIFEST) {
                return fail(new Rejection.InvalidManifest("pools", "must be a list of 1.." + PoolName.MAX_PER_MANIFEST + " pool names"));
            }
            List<String> read = new ArrayList<>(p.size());
            for (int i = 0; i < p.size(); i++) {
                JsonNode one = p.get(i);
                if (!one.isTextual() || !PoolName.isValid(one.textValue())) {
                    return fail(new Rejection.InvalidManifest("pools[" + i + "]", "must be a pool name matching " + PoolName.RULE));
                }
                if (!read.isEmpty() && one.textValue().compareTo(read.get(read.size() - 1)) <= 0) {
                    return fail(new Rejection.InvalidManifest("pools[" + i + "]", "pools must be sorted and distinct"));
                }
                read.add(one.textValue());
            }
            pools = read;
        }
        return new ParsedManifest(new Manifest(Manifest.SCHEMA, name.textValue(), version.longValue(), created,
                expires, files, labels, retired, rollout, pools), null);
    }

    /**
     * A rollout object read on its own ({@link RolloutPolicy#parseJson}): the manifest's reader, with
     * the field and reason joined into one line.
     */
    static RolloutPolicy.ParseResult readRolloutPolicy(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            Rejection r = jsonProblem("rollout", e);
            return new RolloutPolicy.ParseResult.Invalid(r instanceof Rejection.DuplicateKey d
                    ? "duplicate key \"" + printable(d.key()) + "\"" : r.detail());
        }
        if (root == null || root.isMissingNode()) {
            return new RolloutPolicy.ParseResult.Invalid("rollout is empty: expected a JSON object");
        }
        RolloutRead r = readRollout(root);
        if (r.policy() == null) {
            return new RolloutPolicy.ParseResult.Invalid((r.field().isEmpty() ? "rollout" : r.field()) + " " + r.why());
        }
        return new RolloutPolicy.ParseResult.Parsed(r.policy());
    }

    /** A rollout policy, or the field (relative to the rollout object, "" for itself) and why not. */
    private record RolloutRead(RolloutPolicy policy, String field, String why) {
        static RolloutRead bad(String field, String why) {
            return new RolloutRead(null, field, why);
        }
    }

    private static RolloutRead readRollout(JsonNode o) {
        if (!o.isObject()) {
            return RolloutRead.bad("", "must be an object");
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!ROLLOUT_FIELDS.contains(field)) {
                return RolloutRead.bad(field, "is not a known field (known: promote_after_s, promote_ok, revert_failed, waves)");
            }
        }
        long promoteOk = RolloutPolicy.DEFAULT_PROMOTE_OK;
        long promoteAfter = RolloutPolicy.DEFAULT_PROMOTE_AFTER_S;
        long revertFailed = RolloutPolicy.DEFAULT_REVERT_FAILED;
        if (o.has("promote_ok")) {
            promoteOk = integer(o.get("promote_ok"), 1, RolloutPolicy.MAX_COUNT);
            if (promoteOk < 0) {
                return RolloutRead.bad("promote_ok", "must be an integer 1.." + RolloutPolicy.MAX_COUNT);
            }
        }
        if (o.has("promote_after_s")) {
            promoteAfter = integer(o.get("promote_after_s"), 0, RolloutPolicy.MAX_PROMOTE_AFTER_S);
            if (promoteAfter < 0) {
                return RolloutRead.bad("promote_after_s", "must be an integer 0.." + RolloutPolicy.MAX_PROMOTE_AFTER_S);
            }
        }
        if (o.has("revert_failed")) {
            revertFailed = integer(o.get("revert_failed"), 1, RolloutPolicy.MAX_COUNT);
            if (revertFailed < 0) {
                return RolloutRead.bad("revert_failed", "must be an integer 1.." + RolloutPolicy.MAX_COUNT);
            }
        }
        JsonNode wavesNode = o.get("waves");
        if (wavesNode == null || !wavesNode.isArray()) {
            return RolloutRead.bad("waves", "must be a list of waves (it may be empty)");
        }
        if (wavesNode.size() > RolloutPolicy.MAX_WAVES) {
            return RolloutRead.bad("waves", "has " + wavesNode.size() + " waves, at most " + RolloutPolicy.MAX_WAVES);
        }
        List<RolloutPolicy.Wave> waves = new ArrayList<>(wavesNode.size());
        for (int i = 0; i < wavesNode.size(); i++) {
            String where = "waves[" + i + "]";
            JsonNode w = wavesNode.get(i);
            if (!w.isObject()) {
                return RolloutRead.bad(where, "must be an object");
            }
            for (Iterator<String> it = w.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!WAVE_KINDS.contains(field)) {
                    return RolloutRead.bad(where + "." + field, "is not a known field (a wave has one of hosts, labels, percent)");
                }
            }
            if (w.size() != 1) {
                return RolloutRead.bad(where, "must have exactly one of hosts, labels, percent (found " + w.size() + ")");
            }
            if (w.has("hosts")) {
                JsonNode hosts = w.get("hosts");
                if (!hosts.isArray() || hosts.isEmpty() || hosts.size() > RolloutPolicy.MAX_HOSTS_PER_WAVE) {
                    return RolloutRead.bad(where + ".hosts", "must be a list of 1.." + RolloutPolicy.MAX_HOSTS_PER_WAVE + " host ids");
                }
                List<String> ids = new ArrayList<>(hosts.size());
                Set<String> seen = new HashSet<>();
                for (int j = 0; j < hosts.size(); j++) {
                    JsonNode h = hosts.get(j);
                    String at = where + ".hosts[" + j + "]";
                    if (!h.isTextual() || !RolloutPolicy.isValidHostId(h.textValue())) {
                        return RolloutRead.bad(at, "must be a node id matching " + RolloutPolicy.HOST_ID_RULE);
                    }
                    if (!seen.add(h.textValue())) {
                        return RolloutRead.bad(at, "names " + h.textValue() + " a second time");
                    }
                    ids.add(h.textValue());
                }
                waves.add(new RolloutPolicy.Hosts(ids));
            } else if (w.has("labels")) {
                JsonNode labels = w.get("labels");
                if (!labels.isObject() || labels.isEmpty() || labels.size() > RolloutPolicy.MAX_LABELS_PER_WAVE) {
                    return RolloutRead.bad(where + ".labels", "must be an object of 1.." + RolloutPolicy.MAX_LABELS_PER_WAVE + " labels");
                }
                Map<String, String> map = new TreeMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!RolloutPolicy.isValidLabel(e.getKey())) {
                        return RolloutRead.bad(where + ".labels", "key \"" + printable(e.getKey()) + "\" must match " + RolloutPolicy.LABEL_RULE);
                    }
                    if (!e.getValue().isTextual() || !RolloutPolicy.isValidLabel(e.getValue().textValue())) {
                        return RolloutRead.bad(where + ".labels." + e.getKey(), "must be a string matching " + RolloutPolicy.LABEL_RULE);
                    }
                    map.put(e.getKey(), e.getValue().textValue());
                }
                waves.add(new RolloutPolicy.Labels(map));
            } else {
                long percent = integer(w.get("percent"), 1, 100);
                if (percent < 0) {
                    return RolloutRead.bad(where + ".percent", "must be 1..100");
                }
                waves.add(new RolloutPolicy.Percent((int) percent));
            }
        }
        return new RolloutRead(new RolloutPolicy(waves, (int) promoteOk, promoteAfter, (int) revertFailed), "", "");
    }

    /** An integer JSON number in min..max (min >= 0), or -1: floats, strings and null are not integers. */
    private static long integer(JsonNode n, long min, long max) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            return -1;
        }
        long v = n.longValue();
        return v < min || v > max ? -1 : v;
    }

    /** A key quoted in a reason: at most 64 characters, control characters escaped. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(64).forEach(c -> {
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    static ParsedSignatures readSignatures(byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            return new ParsedSignatures(null, jsonProblem("signatures.json", e));
        }
        return readSignatures(root);
    }

    /** A signatures.json list already read as JSON (a control document embeds one). */
    static ParsedSignatures readSignatures(JsonNode root) {
        if (root == null || !root.isArray()) {
            return new ParsedSignatures(null, new Rejection.MalformedJson("signatures.json", "not a JSON list"));
        }
        if (root.size() > Limits.MAX_SIGNATURES) {
            return new ParsedSignatures(null, new Rejection.TooLarge("signature list", Limits.MAX_SIGNATURES, root.size()));
        }
        List<Signature> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode s = root.get(i);
            if (!s.isObject()) {
                return sigFail(i, "not an object");
            }
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!SIGNATURE_FIELDS.contains(field)) {
                    return sigFail(i, "unknown field " + field);
                }
            }
            JsonNode keyid = s.get("keyid");
            if (keyid == null || !keyid.isTextual() || !Sha256.isHex(keyid.textValue())) {
                return sigFail(i, "keyid must be 64 lower-case hex characters");
            }
            JsonNode sig = s.get("sig");
            if (sig == null || !sig.isTextual()) {
                return sigFail(i, "sig missing or not a string");
            }
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(sig.textValue());
            } catch (IllegalArgumentException e) {
                return sigFail(i, "sig is not valid base64");
            }
            if (!Base64.getEncoder().encodeToString(raw).equals(sig.textValue())) {
                return sigFail(i, "sig is not canonical base64");
            }
            if (raw.length != 64) {
                return sigFail(i, "sig has " + raw.length + " bytes, an Ed25519 signature has 64");
            }
            out.add(new Signature(new KeyId(keyid.textValue()), raw));
        }
        return new ParsedSignatures(out, null);
    }

    private static ParsedSignatures sigFail(int index, String why) {
        return new ParsedSignatures(null, new Rejection.MalformedSignature(index, why));
    }

    private static ParsedManifest fail(Rejection r) {
        return new ParsedManifest(null, r);
    }

    static Instant instant(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || !n.isTextual() || !RFC3339_UTC.matcher(n.textValue()).matches()) {
            return null;
        }
        try {
            return Instant.parse(n.textValue());
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static Rejection jsonProblem(String file, IOException e) {
        String msg = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        if (msg != null) {
            Matcher m = DUPLICATE.matcher(msg);
            if (m.find()) {
                return new Rejection.DuplicateKey(file, m.group(1));
            }
        }
        if (e instanceof StreamConstraintsException) {
            return new Rejection.MalformedJson(file, "exceeds parser limits");
        }
        String firstLine = msg == null ? e.getClass().getSimpleName() : msg.lines().findFirst().orElse(msg);
        return new Rejection.MalformedJson(file, JACKSON_SOURCE.matcher(firstLine).replaceAll("["));
    }
}
