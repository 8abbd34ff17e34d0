package io.knowngood.crypto.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * A small signed JSON document other than a bundle, in an envelope
 * {@code {"<field>":"<base64 of the document bytes>","signatures":[{"keyid":..,"sig":..}]}}: the
 * signatures are signatures.json's, over the exact document bytes, checked by the same
 * {@link SignaturePolicy}, and every JSON is read by manifest.json's strict reader. Rollout controls
 * ({@code crypto.rollout.ControlCodec}) are its user; it is their one door to the package-private
 * signing code, so that code exists once.
 */
public final class SignedJson {

    private SignedJson() {
    }

    /** What {@link #open} found. */
    public sealed interface Opened {
        /**
         * {@code document} is the signed bytes read strictly as a JSON object (the caller checks its
         * fields); {@code signers} are the trusted keys that signed, in envelope order (at least one).
         */
        record Valid(ObjectNode document, byte[] documentBytes, List<KeyId> signers) implements Opened {
            public Valid {
                signers = List.copyOf(signers);
            }
        }

        /** {@code reason} is one line. */
        record Invalid(String reason) implements Opened {
        }
    }

    /**
     * The envelope holding {@code document} (written without whitespace, keys in the node's order:
     * insert them sorted for the canonical form) signed by {@code key}; {@code field} names the document.
     */
    public static byte[] seal(String field, ObjectNode document, PrivateKey key) {
        if (field.equals("signatures")) {
            throw new IllegalArgumentException("the document cannot be called signatures");
        }
        byte[] bytes = write(document);
        ManifestCodec.Signature sig = new ManifestCodec.Signature(KeyId.of(Ed25519Keys.publicKeyOf(key)), Ed25519Keys.sign(key, bytes));
        ObjectNode wire = ManifestCodec.JSON.createObjectNode();
        // keys sorted: the document's field and "signatures"
        boolean first = field.compareTo("signatures") < 0;
        if (first) {
            wire.put(field, Base64.getEncoder().encodeToString(bytes));
        }
        wire.set("signatures", ManifestCodec.signaturesNode(List.of(sig)));
        if (!first) {
            wire.put(field, Base64.getEncoder().encodeToString(bytes));
        }
        return write(wire);
    }

    /**
     * Reads the envelope strictly (exactly {@code field} and {@code signatures}, no duplicate keys,
     * canonical base64), checks its signatures over the exact document bytes against {@code trust}
     * (one trusted signer at least, and every trusted signer's signature valid), then reads the
     * document strictly as a JSON object. Bad input is {@link Opened.Invalid}, never an exception.
     */
    public static Opened open(byte[] wire, String field, TrustedKeys trust) {
        Read envelope = readObject(wire, "document");
        if (envelope.problem() != null) {
            return new Opened.Invalid(envelope.problem());
        }
        ObjectNode root = envelope.object();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals(field) && !f.equals("signatures")) {
                return new Opened.Invalid("unknown field \"" + ManifestCodec.printable(f) + "\" (expected " + field + " and signatures)");
            }
        }
        JsonNode encoded = root.get(field);
        if (encoded == null || !encoded.isTextual()) {
            return new Opened.Invalid(field + " is missing or not a string");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(encoded.textValue());
        } catch (IllegalArgumentException e) {
            return new Opened.Invalid(field + " is not valid base64");
        }
        if (!Base64.getEncoder().encodeToString(bytes).equals(encoded.textValue())) {
            return new Opened.Invalid(field + " is not canonical base64");
        }
        if (!root.has("signatures")) {
            return new Opened.Invalid("signatures is missing");
        }
        ManifestCodec.ParsedSignatures ps = ManifestCodec.readSignatures(root.get("signatures"));
        if (ps.rejection() != null) {
            return new Opened.Invalid(signatureProblem(ps.rejection(), field));
        }
        SignaturePolicy.Outcome signed = new SignaturePolicy(trust).check(ps.signatures(), bytes);
        if (signed.rejection() != null) {
            return new Opened.Invalid(signatureProblem(signed.rejection(), field));
        }
        Read document = readObject(bytes, field);
        if (document.problem() != null) {
            return new Opened.Invalid(document.problem());
        }
        return new Opened.Valid(document.object(), bytes, signed.signers());
    }

    /** A time as every signed document writes it: RFC 3339, UTC, {@code Z}. */
    public static String rfc3339(Instant t) {
        return ManifestCodec.rfc3339(t);
    }

    /** {@code object.field} as an RFC 3339 UTC time, read as manifest.json's {@code created} is; empty if absent or not one. */
    public static Optional<Instant> instant(JsonNode object, String field) {
        return Optional.ofNullable(ManifestCodec.instant(object, field));
    }

    private static byte[] write(JsonNode node) {
        try {
            return ManifestCodec.JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing a tree of strings and numbers cannot fail", e);
        }
    }

    /** A JSON object read strictly, or (problem set) why not, in one line. */
    private record Read(ObjectNode object, String problem) {
    }

    private static Read readObject(byte[] json, String what) {
        JsonNode node;
        try {
            node = ManifestCodec.JSON.readTree(json);
        } catch (IOException e) {
            Rejection r = ManifestCodec.jsonProblem(what, e);
            if (r instanceof Rejection.DuplicateKey d) {
                return new Read(null, what + " has the key \"" + ManifestCodec.printable(d.key()) + "\" more than once");
            }
            return new Read(null, r.detail());
        }
        if (node == null || node.isMissingNode()) {
            return new Read(null, what + " is empty");
        }
        if (!node.isObject()) {
            return new Read(null, what + " is not a JSON object");
        }
        return new Read((ObjectNode) node, null);
    }

    /** The bundle wording of a signature problem, said of {@code field} instead of manifest.json. */
    private static String signatureProblem(Rejection r, String field) {
        if (r instanceof Rejection.UntrustedKey u) {
            return u.keyIds().isEmpty() ? "no signatures" : "signed only by untrusted keys " + u.keyIds();
        }
        if (r instanceof Rejection.BadSignature b) {
            return "signature by trusted key " + b.keyId() + " does not verify over the " + field;
        }
        if (r instanceof Rejection.TooLarge t) {
            return "more than " + t.limit() + " signatures";
        }
        return r.detail();
    }
}
