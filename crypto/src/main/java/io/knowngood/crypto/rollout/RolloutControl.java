package io.knowngood.crypto.rollout;

import io.knowngood.crypto.bundle.BundleName;
import java.time.Instant;

/**
 * An operator's decision about one version's rollout, signed by a publisher key so that no mesh
 * member can forge it. {@code abort} and {@code promote} are final; between {@code pause} and
 * {@code resume} the one issued last wins. Valid by construction (the wire form is
 * {@link ControlCodec}'s).
 */
public record RolloutControl(String name, long version, Action action, Instant issued) {

    public RolloutControl {
        if (!BundleName.isValid(name)) {
            throw new IllegalArgumentException("bad bundle name: " + name);
        }
        if (version < 1) {
            throw new IllegalArgumentException("version must be >= 1: " + version);
        }
        if (action == null || issued == null) {
            throw new IllegalArgumentException("action and issued are required");
        }
    }

    public enum Action {
        PAUSE, RESUME, ABORT, PROMOTE;

        /** The lower-case wire name ({@code pause}, ...). */
        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
