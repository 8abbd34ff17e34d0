package io.knowngood.crypto.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.SignedJson;
import io.knowngood.crypto.bundle.TrustedKeys;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;

/**
 * The signed control document: JSON {@code {"control": "<base64 of the canonical control JSON>",
 * "signatures": [{"keyid": .., "sig": ..}]}}, where the control JSON is
 * {@code {"action":"abort","issued":"2026-12-01T10:00:00Z","name":"printers","schema":1,"version":5}}
 * (keys sorted, no whitespace) and each {@code sig} is Ed25519 over those exact bytes, as for a manifest.
 * At most {@link #MAX_WIRE_BYTES}. The envelope, signatures and strict JSON are
 * {@link SignedJson}'s (the bundle code); this class owns the control's fields.
 */
public final class ControlCodec {

    public static final int MAX_WIRE_BYTES = 4096;
    public static final int SCHEMA = 1;
    private static final String FIELD = "control";
    private static final Set<String> FIELDS = Set.of("action", "issued", "name", "schema", "version");

    private ControlCodec() {
    }

    /** The signed wire document for {@code control}. */
    public static byte[] sign(RolloutControl control, PrivateKey key) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        // insertion order is output order: sorted
        o.put("action", control.action().wire());
        o.put("issued", SignedJson.rfc3339(control.issued()));
        o.put("name", control.name());
        o.put("schema", SCHEMA);
        o.put("version", control.version());
        return SignedJson.seal(FIELD, o, key);
    }

    /** Verifies the exact wire bytes against {@code trust}; bad input is a typed {@link ControlCheck.Invalid}, never an exception. */
    public static ControlCheck verify(byte[] wire, TrustedKeys trust) {
        if (wire == null || wire.length == 0) {
            return new ControlCheck.Invalid("control document is empty");
        }
        if (wire.length > MAX_WIRE_BYTES) {
            return new ControlCheck.Invalid("control document has " + wire.length + " bytes, at most " + MAX_WIRE_BYTES);
        }
        SignedJson.Opened opened = SignedJson.open(wire, FIELD, trust);
        if (opened instanceof SignedJson.Opened.Invalid bad) {
            return new ControlCheck.Invalid(bad.reason());
        }
        SignedJson.Opened.Valid ok = (SignedJson.Opened.Valid) opened;
        ObjectNode c = ok.document();
        for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                return new ControlCheck.Invalid("control field \"" + f + "\" is not known (known: action, issued, name, schema, version)");
            }
        }
        JsonNode schema = c.get("schema");
        if (schema == null || !schema.isInt() || schema.intValue() != SCHEMA) {
            return new ControlCheck.Invalid("control schema must be " + SCHEMA + ", found " + schema);
        }
        JsonNode name = c.get("name");
        if (name == null || !name.isTextual() || !BundleName.isValid(name.textValue())) {
            return new ControlCheck.Invalid("control name must match " + BundleName.RULE);
        }
        JsonNode version = c.get("version");
        if (version == null || !version.isIntegralNumber() || !version.canConvertToLong() || version.longValue() < 1) {
            return new ControlCheck.Invalid("control version must be an integer from 1 to 2^63-1, found " + version);
        }
        Optional<RolloutControl.Action> action = action(c.get("action"));
        if (action.isEmpty()) {
            return new ControlCheck.Invalid("control action must be one of pause, resume, abort, promote");
        }
        Optional<Instant> issued = SignedJson.instant(c, "issued");
        if (issued.isEmpty()) {
            return new ControlCheck.Invalid("control issued must be an RFC 3339 UTC time");
        }
        RolloutControl control = new RolloutControl(name.textValue(), version.longValue(), action.get(), issued.get());
        return new ControlCheck.Valid(control, wire.clone(), ok.signers().get(0).hex());
    }

    private static Optional<RolloutControl.Action> action(JsonNode n) {
        if (n != null && n.isTextual()) {
            for (RolloutControl.Action a : RolloutControl.Action.values()) {
                if (a.wire().equals(n.textValue())) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }
}
