package io.knowngood.crypto.rollout;

import java.time.Instant;

/**
 * An operator's decision about one version's rollout, signed by a publisher key so that no mesh
 * member can forge it. {@code abort} and {@code promote} are final; between {@code pause} and
 * {@code resume} the one issued last wins.
 */
public record RolloutControl(String name, long version, Action action, Instant issued) {

    public enum Action {
        PAUSE, RESUME, ABORT, PROMOTE;

        /** The lower-case wire name ({@code pause}, ...). */
        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
